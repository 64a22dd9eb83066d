"""Mitra Sehat statistics: pure functions over tidy pandas DataFrames.

This package never imports Flask or SQLAlchemy, so it works the same in the web app and in a
notebook on a CSV export.
"""

"""Background jobs: slow work (PDFs, large downloads, paper imports, snapshots) off the request.

``queue`` starts and finds jobs (RQ on Redis, or threads of the app process without Redis),
``runner`` runs one job from its database row, ``tasks`` holds what each kind of job does and
``files`` keeps finished files: written whole or not at all, deleted when they expire.
"""

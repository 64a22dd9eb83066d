"""Following a download link through its background job, as a browser would."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.jobs import queue

JOB_PAGE = re.compile(r"/jobs/partnerships/\d+/[0-9a-f]{32}$")


@pytest.fixture(autouse=True)
def job_files_in_tmp(request, tmp_path):
    """Finished job files of this test in its own folder, not the instance's.

    Autouse in every module that imports it; it sets the folder on the ``app`` fixture if
    the test uses one (apps a test builds itself get ``JOB_FILES_DIR`` from the same place).
    """
    folder = tmp_path / "job-files"
    if "app" in request.fixturenames:
        request.getfixturevalue("app").config["JOB_FILES_DIR"] = str(folder)
    if "app_config" in request.fixturenames:
        request.getfixturevalue("app_config")["JOB_FILES_DIR"] = str(folder)
    return folder


def job_path(response) -> str:
    """The job page a download link redirected to."""
    assert response.status_code == 302, response.status_code
    path = urlsplit(response.headers["Location"]).path
    assert JOB_PAGE.search(path), path
    return path


def finished_page(app: Flask, client: FlaskClient, response, timeout: float = 120.0):
    """Wait for the job behind ``response`` (a redirect to its page); return the page."""
    path = job_path(response)
    assert queue.drain(app, timeout), "the job did not finish in time"
    page = client.get(path)
    assert page.status_code == 200
    return page


def job_file(app: Flask, client: FlaskClient, response, timeout: float = 120.0):
    """Follow a download link to its job, wait for it and download the file it made."""
    page = finished_page(app, client, response, timeout)
    html = page.get_data(as_text=True)
    match = re.search(r'href="([^"]+/file)"', html)
    assert match, f"no file link on the job page: {html[:2000]}"
    return client.get(match.group(1))


def get_through_job(app: Flask, client: FlaskClient, url: str, timeout: float = 120.0):
    """GET a download link; when it starts a job, wait for it and return its file."""
    response = client.get(url)
    location = response.headers.get("Location", "")
    if response.status_code == 302 and JOB_PAGE.search(urlsplit(location).path):
        return job_file(app, client, response, timeout)
    return response

"""Results as one CSV per table (zip), and CSV that Excel set to Indonesian opens as columns."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest

from app.services.exports import (
    CSV_DECIMALS,
    EXCEL_ID_CSV,
    STANDARD_CSV,
    Table,
    csv_cell,
    to_csv,
    to_zip,
)
from tests.app.export_helpers import build_results_world, snapshot_of
from tests.app.job_helpers import get_through_job, job_files_in_tmp  # noqa: F401 (autouse)
from tests.app.staff_helpers import signed_in_client


def _url(rw, dataset: str, fmt: str, style: str | None = None) -> str:
    url = (f"/exports/partnerships/{rw.world.partnership}/rounds/{rw.closed_round}/"
           f"{dataset}.{fmt}")
    return url + (f"?style={style}" if style else "")


def _english(client) -> None:
    assert client.post("/language", data={"lang": "en", "next": "/"}).status_code == 302


def test_decimals_are_written_to_a_fixed_number_of_places_in_either_style():
    assert CSV_DECIMALS == 4
    assert csv_cell(3.14159265) == "3.1416"
    assert csv_cell(3.25) == "3.25" and csv_cell(4.0) == "4" and csv_cell(-0.00001) == "0"
    assert csv_cell(3.14159265, EXCEL_ID_CSV) == "3,1416"
    assert csv_cell(12, EXCEL_ID_CSV) == 12 and csv_cell("3.5 x", EXCEL_ID_CSV) == "3.5 x"


def test_excel_indonesian_style_separates_with_semicolons_and_keeps_commas_in_text():
    table = Table("t", "T", ("name", "mean"), [["Dinas, Kota", 3.25]])
    text = to_csv([table], style=EXCEL_ID_CSV)
    assert text == '"name";"mean"\r\n"Dinas, Kota";"3,25"\r\n'
    assert list(csv.reader(io.StringIO(text), delimiter=";")) == [
        ["name", "mean"], ["Dinas, Kota", "3,25"]]


def test_zip_holds_one_csv_per_table_in_page_order_and_is_reproducible():
    tables = [Table("scores", "Scores", ("a",), [[1.5]]), Table("gaps", "Gaps", ("b",), [[2]])]
    body = to_zip(tables, style=STANDARD_CSV)
    assert body == to_zip(tables, style=STANDARD_CSV)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.namelist() == ["01-scores.csv", "02-gaps.csv"]
        first = archive.read("01-scores.csv").decode("utf-8-sig")
    assert first == '"a"\r\n"1.5"\r\n'  # no section title: one table per file


def test_results_download_as_zip_and_in_excel_indonesian_style(app):
    rw = build_results_world(app)
    snapshot = snapshot_of(app, rw.closed_round)
    client = signed_in_client(app, "coordinator")
    _english(client)
    response = get_through_job(app, client, _url(rw, "results", "zip", "excel-id"))
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].endswith(
        f'mitra-sehat-round-{rw.closed_round}-results-excel-id.zip"')
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        names = archive.namelist()
        assert names[0] == "01-response_counts.csv" and "02-scores.csv" in names
        scores = archive.read("02-scores.csv").decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(scores), delimiter=";"))
    mean = header.index("Mean")
    equality = snapshot["scores"][0]
    shown = next(p for p in equality["partners"] if not p["suppressed"])
    row = next(r for r in rows if r[1] == shown["name"] and r[0] == equality["label"]["en"])
    assert "," in row[mean] and "." not in row[mean]
    assert float(row[mean].replace(",", ".")) == pytest.approx(shown["mean"], abs=5e-5)


def test_the_downloads_page_offers_the_style_and_zip_only_for_results(app):
    rw = build_results_world(app)
    client = signed_in_client(app, "coordinator")
    page = client.get(f"/exports/partnerships/{rw.world.partnership}?style=excel-id"
                      ).get_data(as_text=True)
    assert _url(rw, "results", "zip", "excel-id") in page
    assert _url(rw, "answers", "csv", "excel-id") in page
    assert _url(rw, "results", "xlsx") + '"' in page  # XLSX has no CSV style
    assert f"{rw.closed_round}/answers.zip" not in page
    assert get_through_job(app, client, _url(rw, "answers", "zip")).status_code == 404
    assert get_through_job(app, client, _url(rw, "results", "csv", "tsv")).status_code == 404

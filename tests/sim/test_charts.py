"""The run report: report.json and PNG charts, drawn headless with the Agg backend."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread
from test_kpi import hand_record

from sim.charts import CHART_FILES, REPORT_FILE, write_report
from sim.kpi import compute_kpis
from sim.record import RunRecord
from sim.viewer.floor_render import WALL_COLOUR

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the IHDR chunk; fails unless the file starts as a PNG."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE and head[12:16] == b"IHDR", path
    return struct.unpack(">II", head[16:24])


def test_report_writes_every_chart_as_a_plausible_png(tmp_path: Path) -> None:
    """Each listed chart is a PNG of at least 300 x 200 px and a few kB; no other files."""
    report = write_report(hand_record(), tmp_path / "run")
    assert report["charts"] == CHART_FILES
    for name in CHART_FILES.values():
        width, height = png_size(tmp_path / "run" / name)
        assert 300 <= width <= 2000 and 200 <= height <= 1500, (name, width, height)
        assert (tmp_path / "run" / name).stat().st_size > 5_000, name
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == sorted(
        [REPORT_FILE, *CHART_FILES.values()]
    )


def test_report_json_is_the_kpis_plus_chart_names(tmp_path: Path) -> None:
    """report.json holds what write_report returned: the KPI dict, the bucket and the charts."""
    record = hand_record()
    report = write_report(record, tmp_path, bucket_s=600.0)
    assert json.loads((tmp_path / REPORT_FILE).read_text()) == report
    kpis = {k: v for k, v in report.items() if k not in ("charts", "throughput_bucket_s")}
    assert kpis == compute_kpis(record).as_dict()
    assert report["throughput_bucket_s"] == 600.0


def test_report_json_is_byte_identical_for_the_same_record(tmp_path: Path) -> None:
    """Two reports of one record write the same report.json bytes."""
    write_report(hand_record(), tmp_path / "one")
    write_report(hand_record(shuffle_seed=3), tmp_path / "two")
    assert (tmp_path / "one" / REPORT_FILE).read_bytes() == (
        tmp_path / "two" / REPORT_FILE
    ).read_bytes()


def test_empty_run_still_draws_every_chart(tmp_path: Path) -> None:
    """No samples and no orders: every chart is still written (saying there is no data)."""
    report = write_report(RunRecord(floor_shape=(4, 6), robots=("a", "b")), tmp_path)
    assert report["orders_total"] == 0 and report["cycle_time_s_p50"] is None
    for name in CHART_FILES.values():
        png_size(tmp_path / name)


def test_heatmap_shows_walls_in_the_wall_colour(tmp_path: Path) -> None:
    """Cells outside the navigable mask are drawn in the viewer's wall colour; without it, not."""
    navigable = np.ones((3, 4), dtype=bool)
    navigable[0, 2] = navigable[2, 0] = False
    write_report(hand_record(), tmp_path / "walls", navigable=navigable)
    write_report(hand_record(), tmp_path / "open")
    wall = np.array(WALL_COLOUR) / 255

    def wall_pixels(folder: str) -> int:
        image = imread(tmp_path / folder / CHART_FILES["heatmap_waiting"])[..., :3]
        return int(np.all(np.abs(image - wall) < 2 / 255, axis=-1).sum())

    assert wall_pixels("walls") > 1000
    assert wall_pixels("open") == 0


def test_navigable_mask_of_another_shape_is_refused(tmp_path: Path) -> None:
    """A mask that is not the floor's shape is a caller bug, named in the error."""
    with pytest.raises(ValueError, match="does not match the floor"):
        write_report(hand_record(), tmp_path, navigable=np.ones((4, 3), dtype=bool))


def test_charts_use_agg_and_never_pyplot_whatever_the_environment(tmp_path: Path) -> None:
    """With MPLBACKEND asking for a window, sim.charts still selects Agg and never loads pyplot."""
    code = (
        "import sys, matplotlib; from test_kpi import hand_record; import sim.charts;"
        f"sim.charts.write_report(hand_record(), {str(tmp_path)!r});"
        "print(matplotlib.get_backend().lower(), 'matplotlib.pyplot' in sys.modules)"
    )
    env = {**os.environ, "MPLBACKEND": "TkAgg", "PYTHONPATH": str(Path(__file__).parent)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.split() == ["agg", "False"]

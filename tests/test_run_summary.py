"""The `geoplan run` terminal line about suggested sites says what is true."""

from __future__ import annotations

import pandas as pd

from geoplan.cli.run_cmd import sites_line


def test_sites_line_counts_sites_standards_and_gaps_without_summing_areas():
    sites = pd.DataFrame({
        "district": ["甲区", "甲区", "甲区", "乙区", "乙区"],
        "standard": ["park_500", "park_500", "park_service_coverage", "park_500", "life_circle_5min"],
        "item": ["", "", "", "", "kindergarten"],
        "rank": [1, 2, 1, 1, 1],
        "covered_m2": [1e4, 5e3, 1e4, 2e4, 3e3],
    })
    line = sites_line(sites)
    assert line.startswith("suggested sites: 5 for 3 standards in 2 districts")
    assert "4 gaps" in line and "2 sites at most each" in line
    assert "ha" not in line  # areas of different standards overlap: never summed

from __future__ import annotations

import subprocess
import sys


def test_import_reads_no_data() -> None:
    code = (
        "import wattprint.carbon as c\n"
        "from wattprint.carbon import data\n"
        "loaders = [data.country_rows, data.region_rows, data.cloud_rows, data.zone_rows,\n"
        "           data.aggregate_rows, data.pue_rows, data.equivalence_rows]\n"
        "assert all(f.cache_info().currsize == 0 for f in loaders)\n"
        "import sys\n"
        "assert 'urllib.request' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

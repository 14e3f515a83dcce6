"""Regulator statistics over Parquet partitions: the embedded DuckDB engine, the Dask engine (a LocalCluster in
threads and a scheduler reached by its address) and the record functions of hengqi.supervision.statistics give
the same numbers on the same simulated province."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hengqi.cli.app import cli
from hengqi.errors import InputError
from hengqi.server.analytics.definitions import STANDARD_REPORTS, Spec
from hengqi.server.analytics.engines import ComputeTarget, compute, parse_compute_url
from hengqi.server.analytics.partitions import partitions, write_province
from hengqi.supervision.province import Province, synthetic_province
from hengqi.supervision.statistics import age_band, alarm_rate, overdue_rate, pass_rate, time_to_reverify


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> tuple[Province, Path]:
    p = synthetic_province(1500, seed=7, regions=3)
    root = tmp_path_factory.mktemp("province")
    write_province(p, root)
    return p, root


#: one grouped report of each statistic, the month keys and the funnel's targets (the whole standard set is
#: compared by bench/bench_province.py; here the run must take seconds)
SOME = tuple(
    s
    for s in STANDARD_REPORTS
    if s.group_by in (("region", "month"), ("age",), ("model",), ("maker",))
    or (s.statistic == "reverification_time" and s.group_by == ("region",))
)


@pytest.fixture(scope="module")
def embedded(province: tuple[Province, Path]) -> list[dict[str, Any]]:
    p, root = province
    return compute(root, STANDARD_REPORTS, as_of=p.as_of)


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, protocol="tcp", dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _rows(column_table: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    cols = {k: v.tolist() for k, v in column_table.items()}  # masked (missing) values become None
    return [dict(zip(cols, values, strict=True)) for values in zip(*cols.values(), strict=True)]


@pytest.mark.slow  # a LocalCluster and 48 Dask tasks: about 3 s alone, longer on a loaded machine
def test_dask_gives_the_embedded_numbers(
    province: tuple[Province, Path], embedded: list[dict[str, Any]], dask_client: Any
) -> None:
    p, root = province
    wanted = [r for r in embedded if Spec(r["name"], tuple(r["group_by"])) in SOME]
    assert len(wanted) == len(SOME) >= 8
    by_region = compute(root, SOME, as_of=p.as_of, client=dask_client)
    assert by_region == wanted  # every count, rate, interval and funnel flag, bit for bit
    monthly = [s for s in SOME if s.statistic in ("pass_rate", "alarms_per_check")]
    by_month = compute(root, monthly, as_of=p.as_of, client=dask_client, grain="region-month")
    assert by_month == [r for r in wanted if Spec(r["name"], tuple(r["group_by"])) in monthly]
    assert len(partitions(root, "region-month")) == 36  # the finer grain really ran per region and month
    by = {(r["name"], tuple(r["group_by"])): r for r in embedded}
    assert len(by[("pass_rate", ("site",))]["groups"]) > 50
    assert any(g["funnel_flag"] for g in by[("pass_rate", ("model",))]["groups"])  # the weak maker stands out


def test_engines_agree_with_the_record_functions(
    province: tuple[Province, Path], embedded: list[dict[str, Any]]
) -> None:
    p, _ = province
    by = {(r["name"], tuple(r["group_by"])): r for r in embedded}
    instruments = {r["instrument_id"]: r for r in _rows(p.instruments)}
    verifications = [{**instruments[v["instrument_id"]], **v} for v in _rows(p.verifications)]
    age = ("age", age_band("installed", p.as_of)[1])

    (overall,) = pass_rate(verifications)
    assert by[("pass_rate", ())]["groups"][0]["count"] == overall.interval.successes
    for keys in (["region"], ["maker"], [age]):
        name = keys[0] if isinstance(keys[0], str) else keys[0][0]
        expected = [(g.key[0][1], g.interval.successes, g.interval.trials, g.interval.lower) for g in pass_rate(
            verifications, group_by=keys)]  # fmt: skip
        got = [(g["key"][name], g["count"], g["total"], g["lower"]) for g in by[("pass_rate", (name,))]["groups"]]
        assert got == expected

    in_service = [r for r in instruments.values() if r["status"] == "in-service"]
    expected_overdue = [(g.key[0][1], g.interval.successes, g.interval.trials) for g in overdue_rate(
        in_service, as_of=p.as_of, group_by=["region"])]  # fmt: skip
    got_overdue = [(g["key"]["region"], g["count"], g["total"]) for g in by[("overdue_rate", ("region",))]["groups"]]
    assert got_overdue == expected_overdue

    alerts = [{**instruments[a["instrument_id"]], **a} for a in _rows(p.alerts)]
    expected_alarms = [(k[0][1], r.events, r.rate) for k, r in alarm_rate(
        alerts, instruments.values(), group_by=["type"])]  # fmt: skip
    got_alarms = [(g["key"]["type"], g["events"], g["rate"]) for g in by[("alarms_per_1000", ("type",))]["groups"]]
    assert got_alarms == expected_alarms

    expected_delay = [(r.key[0][1], r.mean_days, r.resolved, r.open) for r in time_to_reverify(
        verifications, group_by=["region"])]  # fmt: skip
    got_delay = [
        (g["key"]["region"], g["mean_days"], g["resolved"], g["open"])
        for g in by[("reverification_time", ("region",))]["groups"]
    ]
    assert got_delay == expected_delay
    assert sum(d[3] for d in got_delay) > 0
    assert sum(d[2] for d in got_delay) > 0


def test_a_scheduler_address_and_an_organisation_scope(province: tuple[Province, Path], dask_client: Any) -> None:
    p, root = province
    address = dask_client.scheduler.address  # tcp://127.0.0.1:<ephemeral>
    assert address.startswith("tcp://")
    target = parse_compute_url("dask://" + address.removeprefix("tcp://"))
    spec = [Spec("pass_rate", ("organisation",)), Spec("overdue_rate", ("region",))]
    orgs = frozenset({1, 3})
    remote = compute(root, spec, as_of=p.as_of, target=target, organisations=orgs)
    local = compute(root, spec, as_of=p.as_of, organisations=orgs)
    assert remote == local
    assert {g["key"]["organisation"] for g in local[0]["groups"]} == {1, 3}
    regions = {r for r, o in zip(p.instruments["region"], p.instruments["organisation"], strict=True) if o in orgs}
    assert {g["key"]["region"] for g in local[1]["groups"]} == regions
    nothing = compute(root, spec, as_of=p.as_of, organisations=frozenset())
    assert all(r["groups"] == [] for r in nothing)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (None, ComputeTarget("embedded")),
        ("embedded", ComputeTarget("embedded")),
        ("dask://10.0.0.5:8786", ComputeTarget("dask", "tcp://10.0.0.5:8786")),
        ("dask://local", ComputeTarget("dask-local", None, 1, False)),
        ("dask://local?workers=2&processes=1", ComputeTarget("dask-local", None, 2, True)),
    ],
)
def test_compute_urls(url: str | None, expected: ComputeTarget) -> None:
    assert parse_compute_url(url) == expected


@pytest.mark.parametrize(
    "url",
    ["http://host:8786", "dask://host", "dask://host:99999", "dask://local?workers=0", "dask://local?threads=2",
     "dask://local?workers=x", "dask://host:8786/path", "dask://host:8786?workers=2", "duckdb://"],
)  # fmt: skip
def test_bad_compute_urls_are_refused(url: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_compute_url(url)
    assert caught.value.path == "--compute"


def test_unknown_statistics_and_keys_are_refused() -> None:
    with pytest.raises(InputError):
        Spec("median_weight")
    with pytest.raises(InputError):
        Spec("pass_rate", ("colour",))
    with pytest.raises(InputError):
        Spec("overdue_rate", ("month",))


def test_cli_province(
    province: tuple[Province, Path], embedded: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    p, root = province
    args = ["stats", "province", str(root), "--as-of", p.as_of.isoformat()]
    assert cli([*args, "--statistic", "pass_rate", "--group-by", "region", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == [r for r in embedded if r["name"] == "pass_rate" and r["group_by"] == ["region"]]
    assert cli([*args, "--compute", "dask://local", "--statistic", "overdue_rate", "--json"]) == 0
    assert (
        json.loads(capsys.readouterr().out)[0]["groups"]
        == next(r for r in embedded if r["name"] == "overdue_rate" and r["group_by"] == [])["groups"]
    )
    assert cli([*args, "--compute", "spark://x:1"]) == 2
    assert "--compute" in capsys.readouterr().err
    assert cli(["stats", "province", str(root / "nowhere"), "--as-of", "2027-01-01"]) == 2
    assert cli([*args, "--statistic", "overdue_rate", "--group-by", "month"]) == 2


def test_the_age_bands_match_the_record_function() -> None:
    band = age_band("installed", date(2027, 1, 1))[1]
    assert band({"installed": date(2025, 1, 2)}) == "0-2"
    assert band({"installed": date(2025, 1, 1)}) == "2-5"


def test_serve_refuses_a_bad_compute_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["serve", "--data-dir", str(tmp_path), "--compute", "dask://nowhere"]) == 2
    assert "--compute" in capsys.readouterr().err

"""The pure half of the JetStream path: subject tokens, partitions, ids, profiles, leases, NATS URLs."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hengqi.errors import InputError
from hengqi.supervision.detectors import Finding
from hengqi.supervision.detectors.fleet import InstrumentProfile
from hengqi.supervision.detectors.seal import WorkOrderWindow
from hengqi.supervision.streams import (
    LeaseView,
    finding_id,
    instrument_subject,
    parse_stream_url,
    partition_of,
    partitions_of,
    profile_from_json,
    profile_to_json,
    state_key,
    token,
)

KV_KEY_CHARS = set("-/_=.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


@given(st.text(max_size=40), st.text(max_size=40))
def test_tokens_are_valid_and_one_to_one(a: str, b: str) -> None:
    ta, tb = token(a), token(b)
    assert ta
    assert "." not in ta
    assert "*" not in ta
    assert ">" not in ta
    assert not any(c.isspace() for c in ta)
    assert set(state_key(a)) <= KV_KEY_CHARS
    assert (ta == tb) == (a == b)


def test_subject_has_org_instrument_and_partition_tokens() -> None:
    subject = instrument_subject("hengqi.field", "market 1", "WB.7", 8)
    assert subject.split(".") == ["hengqi", "field", "market=201", "WB=2E7", str(partition_of("WB.7", 8))]


def test_partitions_are_stable_and_spread() -> None:
    counts = Counter(partition_of(f"SC-{i:05d}", 8) for i in range(8000))
    assert set(counts) == set(range(8))
    assert max(counts.values()) < 1.1 * 1000  # within 10 % of an even share
    assert partition_of("SC-00000", 16) == 2  # fixed across processes and versions: published data depend on it
    with pytest.raises(InputError):
        partition_of("x", 0)


def test_workers_split_the_partitions_without_overlap() -> None:
    shares = [set(partitions_of(w, 3, 16)) for w in range(3)]
    assert set().union(*shares) == set(range(16))
    assert sum(len(s) for s in shares) == 16
    with pytest.raises(InputError):
        partitions_of(3, 3, 16)


def _finding(seqs: tuple[int, ...]) -> Finding:
    return Finding("WB-1", "seal", "case_opened", datetime(2026, 1, 5, tzinfo=UTC), seqs, "-", "-", "src", "msg")


def test_finding_ids_follow_the_finding() -> None:
    assert finding_id(_finding((1, 2))) == finding_id(_finding((1, 2)))
    assert finding_id(_finding((1, 2))) != finding_id(_finding((1, 3)))


def test_profiles_round_trip() -> None:
    window = WorkOrderWindow(datetime(2026, 1, 5, 8, tzinfo=UTC), datetime(2026, 1, 5, 9, tzinfo=UTC), "insp. 7")
    profile = InstrumentProfile("WB-1", "weighbridge", "60000", "20", work_orders=(window,), approved_checksum="AB")
    assert profile_from_json(profile_to_json(profile)) == profile


def test_a_lease_expires_only_when_its_revision_stands_still() -> None:
    view = LeaseView(5, 100.0)
    view = view.observe(5, 101.9)
    assert not view.expired(101.9, 2.0)
    assert view.expired(102.1, 2.0)
    renewed = view.observe(6, 102.1)
    assert not renewed.expired(104.0, 2.0)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:4222", "use nats://"),
        ("nats://", "names no host"),
        ("nats://h:99999", "not a NATS URL"),
        ("nats://h:4222/x", "no path"),
        ("127.0.0.1:4222", "use nats://"),
    ],
)
def test_malformed_nats_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as err:
        parse_stream_url(url)
    assert err.value.path == "--stream"


def test_nats_url_defaults_and_password_not_shown() -> None:
    address = parse_stream_url("nats://ingest:s3cret@10.0.0.5")
    assert (address.host, address.port) == ("10.0.0.5", 4222)
    assert "s3cret" not in address.display()
    assert address.url() == "nats://ingest:s3cret@10.0.0.5:4222"

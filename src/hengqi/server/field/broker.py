"""Mosquitto configuration for field devices: each device may publish only on its own Sparkplug topics.

Each device connects with its device id as user name (password in Mosquitto's password file, made with
``mosquitto_passwd``); the ACL lets it write its node's NBIRTH/NDEATH and its device's DBIRTH/DDATA/DDEATH in its
own group and read its own NCMD/DCMD, nothing else; the ingest user reads ``spBv1.0/#``.  Mosquitto reads the ACL
file at start and on SIGHUP (mosquitto.conf(5), ``acl_file``).

>>> print(acl_text([("market-7", "SC-0001")], ingest_user="ingest"))
user ingest
topic read spBv1.0/#
<BLANKLINE>
user SC-0001
topic write spBv1.0/market-7/NBIRTH/SC-0001
topic write spBv1.0/market-7/NDEATH/SC-0001
topic write spBv1.0/market-7/DBIRTH/SC-0001/SC-0001
topic write spBv1.0/market-7/DDATA/SC-0001/SC-0001
topic write spBv1.0/market-7/DDEATH/SC-0001/SC-0001
topic read spBv1.0/market-7/NCMD/SC-0001
topic read spBv1.0/market-7/DCMD/SC-0001/SC-0001
"""

from __future__ import annotations

from collections.abc import Iterable

from hengqi.supervision.sparkplug import NAMESPACE, check_id, state_topic


def acl_text(devices: Iterable[tuple[str, str]], *, ingest_user: str, host_id: str | None = None) -> str:
    """The ACL file for ``(group, device id)`` pairs (the edge node id of a device's agent is its device id).

    With ``host_id``, the ingest may also write its Sparkplug STATE topic and every device may read it:

    >>> print(acl_text([("g", "D1")], ingest_user="ingest", host_id="hengqi").splitlines()[2])
    topic write spBv1.0/STATE/hengqi
    >>> acl_text([("g", "D1")], ingest_user="ingest", host_id="hengqi").splitlines()[-1]
    'topic read spBv1.0/STATE/hengqi'
    """
    check_id(ingest_user, "ingest_user")
    lines = [f"user {ingest_user}", f"topic read {NAMESPACE}/#"]
    host = None if host_id is None else state_topic(host_id)
    if host is not None:
        lines.append(f"topic write {host}")
    for group, device in devices:
        check_id(group, "group")
        check_id(device, "device")
        base = f"{NAMESPACE}/{group}"
        lines += ["", f"user {device}"]
        lines += [f"topic write {base}/{kind}/{device}" for kind in ("NBIRTH", "NDEATH")]
        lines += [f"topic write {base}/{kind}/{device}/{device}" for kind in ("DBIRTH", "DDATA", "DDEATH")]
        lines += [f"topic read {base}/NCMD/{device}", f"topic read {base}/DCMD/{device}/{device}"]
        if host is not None:
            lines.append(f"topic read {host}")
    return "\n".join(lines)

"""asyncua's client against ``hengqi``'s OPC UA server over a real socket, the simulator behind it.

Browse (types and mandatory nodes of OPC 40200 v2.00 Tables 20, 25, 142, 143), read, subscribe, call methods,
the hengqi extension, and the security settings (anonymous refused where security is required, wrong passwords
refused, Basic256Sha256 sign-and-encrypt with a user name accepted).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from asyncua import Client, Node, ua
from asyncua.crypto.security_policies import SecurityPolicyBasic256Sha256
from tests.opcua.fixtures import PASSWORD, Served

from hengqi.errors import InputError
from hengqi.instruments.opcua import DI_NS, SCALES_NS, unit_id
from hengqi.opcua.model import HENGQI_NS
from hengqi.opcua.security import settings_for


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 60))


async def _scale(client: Client) -> tuple[Node, int]:
    await client.load_data_type_definitions()
    ns = await client.get_namespace_index(SCALES_NS)
    di = await client.get_namespace_index(DI_NS)
    hq = await client.get_namespace_index(HENGQI_NS)
    return await client.nodes.objects.get_child([f"{di}:DeviceSet", f"{hq}:Balance1"]), ns


async def _names(node: Node) -> set[str]:
    return {(await child.read_browse_name()).Name for child in await node.get_children()}


async def _wait_for(node: Node, predicate: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        data = await node.read_data_value(raise_on_bad_status=False)
        value = data.Value.Value if data.Value is not None else None
        if (data.StatusCode.is_good() and predicate(value)) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.02)


def test_browse_finds_a_simple_scale_with_the_mandatory_nodes(served: Served) -> None:
    async def check() -> None:
        async with Client(served.endpoint) as client:
            scale, ns = await _scale(client)
            type_node = client.get_node(await scale.read_type_definition())
            assert await type_node.read_browse_name() == ua.QualifiedName("SimpleScaleType", ns)
            parent = await type_node.get_parent()  # HasSubtype inverse
            assert await parent.read_browse_name() == ua.QualifiedName("ScaleDeviceType", ns)
            assert (await parent.read_attribute(ua.AttributeIds.IsAbstract)).Value.Value is True
            # The type's instance declarations carry the modelling rules of Table 20.
            declared = await parent.get_child(f"{ns}:CurrentWeight")
            rule = await declared.get_referenced_nodes(refs=ua.ObjectIds.HasModellingRule)
            assert [r.nodeid for r in rule] == [ua.NodeId(ua.ObjectIds.ModellingRule_Mandatory)]
            children = {(await c.read_browse_name()).Name: c for c in await parent.get_children()}
            placeholder = children["<ListOfWeighingRanges>"]
            rule = await placeholder.get_referenced_nodes(refs=ua.ObjectIds.HasModellingRule)
            assert [r.nodeid for r in rule] == [ua.NodeId(ua.ObjectIds.ModellingRule_MandatoryPlaceholder)]
            names = await _names(scale)
            mandatory = {"CurrentWeight", "WeighingRange1", "Identification", "Manufacturer", "Model", "SerialNumber"}
            assert mandatory <= names
            assert {"SetZero", "SetTare", "ClearTare", "RegisterWeight", "RegisteredWeight"} <= names
            current = await scale.get_child(f"{ns}:CurrentWeight")
            item_type = client.get_node(await current.read_type_definition())
            assert await item_type.read_browse_name() == ua.QualifiedName("WeightItemType", ns)
            assert {"EngineeringUnits", "EURange", "Overload", "Underload", "TareMode"} <= await _names(current)
            assert {"Overload", "Underload", "TareMode", "WeightStable"} <= await _names(item_type)
            weighing_range = await scale.get_child(f"{ns}:WeighingRange1")
            assert {"ActualScaleInterval", "Range", "VerificationScaleInterval"} <= await _names(weighing_range)
            di = await client.get_namespace_index(DI_NS)
            add_ins = await scale.get_referenced_nodes(refs=ua.ObjectIds.HasAddIn)
            assert [await n.read_browse_name() for n in add_ins] == [ua.QualifiedName("Identification", di)]
            manufacturer = await (await add_ins[0].get_child(f"{di}:Manufacturer")).read_value()
            assert manufacturer.Text == "Mettler-Toledo"  # as the simulated balance identifies itself

    run(check())


def test_read_weight_units_range_and_legal_data(served: Served) -> None:
    served.sim.place("100 g")

    async def check() -> None:
        async with Client(served.endpoint) as client:
            scale, ns = await _scale(client)
            current = await scale.get_child(f"{ns}:CurrentWeight")
            stable = await current.get_child(f"{ns}:WeightStable")
            weight = await _wait_for(current, lambda w: w.Net == 100.0)
            assert await _wait_for(stable, bool) is True
            assert (weight.Gross, weight.Net, weight.Tare) == (100.0, 100.0, 0.0)
            units = await (await current.get_child("0:EngineeringUnits")).read_value()
            assert units.UnitId == unit_id("GRM")
            assert units.NamespaceUri == "http://www.opcfoundation.org/UA/units/un/cefact"
            eurange = await (await current.get_child("0:EURange")).read_value()
            assert eurange.High == pytest.approx(220.0)
            printable = await (await current.get_child(f"{ns}:PrintableValue")).read_value()
            assert printable.Net == "100.0000"  # the digits the balance displays (d = 0.1 mg)
            assert await (await current.get_child(f"{ns}:LegalForTrade")).read_value() is True
            rng = await scale.get_child(f"{ns}:WeighingRange1")
            e = await (await rng.get_child(f"{ns}:VerificationScaleInterval")).read_value()
            d = await (await rng.get_child(f"{ns}:ActualScaleInterval")).read_value()
            assert Decimal(repr(e)) == Decimal("0.000001")  # 1 mg in kg, from the configuration
            assert Decimal(repr(d)) == Decimal("0.0000001")  # 0.1 mg, as the balance reports
            high = (await (await rng.get_child(f"{ns}:Range")).read_value()).High
            assert high == pytest.approx(0.22)

    run(check())


class _Collector:
    def __init__(self) -> None:
        self.values: list[Any] = []
        self.event = asyncio.Event()

    def datachange_notification(self, node: Node, value: Any, data: Any) -> None:
        self.values.append(value)
        if value.Net == 50.0:
            self.event.set()


def test_a_load_placed_on_the_simulator_arrives_as_a_notification(served: Served) -> None:
    async def check() -> None:
        async with Client(served.endpoint) as client:
            scale, ns = await _scale(client)
            current = await scale.get_child(f"{ns}:CurrentWeight")
            collector = _Collector()
            subscription = await client.create_subscription(20, collector)
            await subscription.subscribe_data_change(current)
            await asyncio.sleep(0.2)
            assert all(v.Net != 50.0 for v in collector.values)
            served.sim.place("50 g")
            await asyncio.wait_for(collector.event.wait(), 10)
            assert collector.values[-1].Net == 50.0
            await subscription.delete()

    run(check())


def test_set_tare_and_set_zero_act_on_the_simulated_balance(served: Served) -> None:
    served.sim.place("20 g")

    async def check() -> None:
        async with Client(served.endpoint) as client:
            scale, ns = await _scale(client)
            current = await scale.get_child(f"{ns}:CurrentWeight")
            await _wait_for(current, lambda w: w.Net == 20.0)
            time.sleep(0.3)  # settled
            await scale.call_method(f"{ns}:SetTare")
            assert served.sim.model.indication().tare_kg == Decimal("0.02")
            weight = await _wait_for(current, lambda w: w.Net == 0.0)
            assert (weight.Gross, weight.Net, weight.Tare) == (20.0, 0.0, 20.0)
            tare_mode = await (await current.get_child(f"{ns}:TareMode")).read_value()
            assert tare_mode == 1  # MeasuredTare_1 (Table 156)
            await scale.call_method(f"{ns}:ClearTare")
            assert served.sim.model.indication().tare_kg == 0
            assert (await _wait_for(current, lambda w: w.Net == 20.0)).Tare == 0.0
            # Zero setting: a small load within the zero-setting range is zeroed by the balance itself.
            served.sim.place("0.5 g")
            await _wait_for(current, lambda w: w.Net == 0.5)
            time.sleep(0.3)
            await scale.call_method(f"{ns}:SetZero")
            assert served.sim.model.indication().net_kg == 0
            assert (await _wait_for(current, lambda w: w.Net == 0.0)).Net == 0.0

    run(check())


def test_set_zero_outside_the_zero_setting_range_is_a_bad_status(served: Served) -> None:
    served.sim.place("200 g")

    async def check() -> None:
        async with Client(served.endpoint) as client:
            scale, ns = await _scale(client)
            current = await scale.get_child(f"{ns}:CurrentWeight")
            await _wait_for(current, lambda w: w.Net == 200.0)
            time.sleep(0.3)
            with pytest.raises(ua.UaStatusCodeError) as refused:
                await scale.call_method(f"{ns}:SetZero")
            assert refused.value.code in {ua.StatusCodes.BadOutOfRange, ua.StatusCodes.BadInvalidState}
            assert served.sim.model.indication().net_kg == Decimal("0.2")  # nothing was zeroed

    run(check())


def test_methods_refuse_arguments_and_other_objects(served: Served) -> None:
    """OPC 10000-4 5.11.2: arguments to a method without any, or a call on another object, change nothing."""
    served.sim.place("1 g")

    async def attack() -> None:
        async with Client(served.endpoint) as client:
            scale, ns = await _scale(client)
            await _wait_for(await scale.get_child(f"{ns}:CurrentWeight"), lambda w: w.Net == 1.0)
            time.sleep(0.3)
            with pytest.raises(ua.UaStatusCodeError) as refused:
                await scale.call_method(f"{ns}:SetZero", ua.Variant("x" * 100_000))
            assert refused.value.code == ua.StatusCodes.BadTooManyArguments
            method = await scale.get_child(f"{ns}:SetTare")
            with pytest.raises(ua.UaStatusCodeError) as refused:
                await client.nodes.objects.call_method(method)
            assert refused.value.code == ua.StatusCodes.BadMethodInvalid
            assert served.sim.model.indication().net_kg == Decimal("0.001")  # neither zeroed nor tared
            assert served.sim.model.indication().tare_kg == 0

    run(attack())


def test_register_weight_copies_a_stable_reading(served: Served) -> None:
    served.sim.place("10 g")

    async def check() -> None:
        async with Client(served.endpoint) as client:
            scale, ns = await _scale(client)
            await _wait_for(await scale.get_child(f"{ns}:CurrentWeight"), lambda w: w.Net == 10.0)
            await scale.call_method(f"{ns}:RegisterWeight")
            registered = await scale.get_child(f"{ns}:RegisteredWeight")
            assert (await registered.read_value()).Net == 10.0
            first = await (await registered.get_child(f"{ns}:WeightId")).read_value()
            await scale.call_method(f"{ns}:RegisterWeight")
            assert await (await registered.get_child(f"{ns}:WeightId")).read_value() != first

    run(check())


def test_the_hengqi_extension(served: Served) -> None:
    async def check() -> None:
        async with Client(served.endpoint) as client:
            scale, _ = await _scale(client)
            hq = await client.get_namespace_index(HENGQI_NS)
            ext = await scale.get_child(f"{hq}:Metrology")
            read = {(await n.read_browse_name()).Name: n for n in await ext.get_children()}
            assert await read["CalibrationEventCounter"].read_value() == 7
            assert await read["ConfigurationEventCounter"].read_value() == 3
            assert (await read["EventLog"].read_value())[1] == "2026-11-03T10:00:00Z parameter 12 changed"
            assert await read["VerificationStatus"].read_value() == "verified"
            due = await read["VerificationDueDate"].read_value()
            assert due.date() == dt.date(2027, 11, 2)
            checksum = await read["SoftwareChecksum"].read_data_value(raise_on_bad_status=False)
            assert checksum.StatusCode.value == ua.StatusCodes.BadConfigurationError  # not configured: no value
            with pytest.raises(ua.UaStatusCodeError):
                await read["CalibrationEventCounter"].write_value(ua.Variant(0, ua.VariantType.UInt32))

    run(check())


def test_weight_is_read_only_for_clients(served: Served) -> None:
    async def check() -> None:
        async with Client(served.endpoint) as client:
            scale, ns = await _scale(client)
            current = await scale.get_child(f"{ns}:CurrentWeight")
            value = await current.read_value()
            with pytest.raises(ua.UaStatusCodeError):
                await current.write_value(ua.Variant(value, ua.VariantType.ExtensionObject))

    run(check())


# -- security ---------------------------------------------------------------------------------------------------


def test_non_loopback_without_users_is_refused() -> None:
    with pytest.raises(InputError, match="without security"):
        settings_for("192.0.2.10", {})
    assert settings_for("192.0.2.10", {"mes": "$argon2id$x"}).anonymous is False


def test_anonymous_session_is_refused_where_security_is_required(secured: Served) -> None:
    async def attack() -> None:
        client = Client(secured.endpoint, timeout=5)
        with pytest.raises(Exception):  # noqa: B017, PT011 - asyncua raises several types for a refusal
            await client.connect()
        await client.disconnect()

    run(attack())


async def _secure_client(endpoint: str, user: str, password: str) -> Client:
    from hengqi.instruments.opcua import CLIENT_APPLICATION_URI, _client_certificate

    client = Client(endpoint, timeout=5)
    client.application_uri = CLIENT_APPLICATION_URI
    client.set_user(user)
    client.set_password(password)
    cert, key = _client_certificate()
    await client.set_security(SecurityPolicyBasic256Sha256, cert, key, mode=ua.MessageSecurityMode.SignAndEncrypt)
    return client


def test_a_wrong_password_is_refused(secured: Served) -> None:
    async def attack() -> None:
        client = await _secure_client(secured.endpoint, "mes", "wrong password")
        with pytest.raises(ua.UaStatusCodeError):
            await client.connect()
        await client.disconnect()

    run(attack())


def test_basic256sha256_with_a_user_reads_and_calls(secured: Served) -> None:
    secured.sim.place("30 g")

    async def use() -> None:
        client = await _secure_client(secured.endpoint, "mes", PASSWORD)
        async with client:
            scale, ns = await _scale(client)
            current = await scale.get_child(f"{ns}:CurrentWeight")
            assert (await _wait_for(current, lambda w: w.Net == 30.0)).Net == 30.0
            endpoints = await client.get_endpoints()
            assert {e.SecurityPolicyUri for e in endpoints} == {SecurityPolicyBasic256Sha256.URI}
            assert {e.SecurityMode for e in endpoints} == {ua.MessageSecurityMode.SignAndEncrypt}

    run(use())


# -- asyncua's command-line clients (uals, uaread, uacall) as foreign clients -------------------------------------


def _tool(name: str, *args: str) -> str:
    tool = Path(sys.executable).parent / name
    done = subprocess.run([str(tool), *args], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_command_line_clients_browse_read_and_call(served: Served) -> None:
    served.sim.place("7 g")

    async def indexes() -> tuple[int, int]:
        async with Client(served.endpoint) as client:
            scale, ns = await _scale(client)
            await _wait_for(await scale.get_child(f"{ns}:CurrentWeight"), lambda w: w.Net == 7.0)
            return ns, await client.get_namespace_index(HENGQI_NS)

    ns, hq = run(indexes())
    time.sleep(0.3)
    listing = _tool("uals", "-u", served.endpoint, "-n", f"ns={hq};s=Balance1", "-l")
    for name in ("CurrentWeight", "WeighingRange1", "SetZero", "SetTare", "Metrology"):
        assert name in listing
    net = _tool("uaread", "-u", served.endpoint, "-n", f"ns={hq};s=Balance1.CurrentWeight.Net")
    assert float(net.strip()) == 7.0
    _tool("uacall", "-u", served.endpoint, "-n", f"ns={hq};s=Balance1", "-m", f"{ns}:SetTare")
    assert served.sim.model.indication().tare_kg == Decimal("0.007")


# -- the instrument's own states -----------------------------------------------------------------------------------


def test_overload_and_a_silent_line_are_published(served: Served) -> None:
    async def check() -> None:
        async with Client(served.endpoint) as client:
            scale, ns = await _scale(client)
            current = await scale.get_child(f"{ns}:CurrentWeight")
            overload = await current.get_child(f"{ns}:Overload")
            served.sim.place("300 g")  # Max 220 g
            assert await _wait_for(overload, bool) is True
            served.sim.remove()
            assert await _wait_for(overload, lambda v: not v) is False
            served.sim.faults.silent = True  # the balance stops answering
            deadline = time.monotonic() + 15
            status = ua.StatusCodes.Good
            while time.monotonic() < deadline:
                status = (await current.read_data_value(raise_on_bad_status=False)).StatusCode.value
                if status == ua.StatusCodes.BadCommunicationError:
                    break
                await asyncio.sleep(0.1)
            assert status == ua.StatusCodes.BadCommunicationError
            served.sim.faults.silent = False
            served.sim.place("3 g")
            weight = await _wait_for(current, lambda w: w is not None and w.Net == 3.0, timeout=15)
            assert weight.Net == 3.0  # readings come back after the line recovers

    run(check())


def test_a_trust_list_refuses_unknown_client_certificates(tmp_path: Path) -> None:
    from tests.opcua.fixtures import config, free_port

    from hengqi.instruments.opcua import CLIENT_APPLICATION_URI, _client_certificate
    from hengqi.instruments.simulator import Simulator
    from hengqi.opcua.config import parse_config
    from hengqi.opcua.security import hash_password
    from hengqi.opcua.server import ScaleServer, ServerThread

    trusted_cert, trusted_key = _client_certificate()
    stranger_cert, stranger_key = _client_certificate()
    (tmp_path / "trust").mkdir()
    (tmp_path / "trust" / "mes.der").write_bytes(trusted_cert)

    async def connect(endpoint: str, cert: bytes, key: bytes) -> float:
        client = Client(endpoint, timeout=5)
        client.application_uri = CLIENT_APPLICATION_URI
        client.set_user("mes")
        client.set_password(PASSWORD)
        await client.set_security(SecurityPolicyBasic256Sha256, cert, key, mode=ua.MessageSecurityMode.SignAndEncrypt)
        async with client:
            scale, ns = await _scale(client)
            return float((await (await scale.get_child(f"{ns}:CurrentWeight")).read_value()).Net)

    with Simulator.start(protocol="mt-sics") as sim:
        cfg = parse_config(config(sim.url, users={"mes": hash_password(PASSWORD)}))
        server = ScaleServer(
            cfg, port=free_port(), pki=tmp_path / "pki", require_security=True, trust=tmp_path / "trust"
        )
        with ServerThread(server):
            assert run(connect(server.endpoint, trusted_cert, trusted_key)) == 0.0
            with pytest.raises(ua.UaStatusCodeError) as refused:
                run(connect(server.endpoint, stranger_cert, stranger_key))
            assert refused.value.code == ua.StatusCodes.BadCertificateUntrusted

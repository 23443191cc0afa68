"""The REFU simulator, read over real Modbus TCP: literal words, and values read back with
``struct`` here (not with the exporter's decoding)."""

from __future__ import annotations

import math
import socket
import struct
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ModbusException

from exporter.model import Channel
from exporter.refu.channels import RefuMapping, Register, WordOrder, load_refu_mapping
from exporter.simulate import free_port
from exporter.simulate.refu import RefuModel, RefuSimulator
from tests.support.paths import REFU_TYPES_MAPPING
from tests.support.refu_simulator import ControlledRefuSimulator

ILLEGAL_FUNCTION, ILLEGAL_ADDRESS = 1, 2
KWH = 3_600_000
#: How each register type is read from its bytes, most significant word first.
UNPACKING = {"uint16": ">H", "int16": ">h", "uint32": ">I", "int32": ">i"}


@pytest.fixture(scope="module")
def mapping() -> RefuMapping:
    return load_refu_mapping()


@pytest.fixture(scope="module")
def source(mapping: RefuMapping) -> dict[str, str]:
    """Mapping source by the seed's channel name (sources may carry a device prefix)."""
    return {c.seed_id.rpartition(".")[2]: c.seed_id for c in mapping.register_channels}


@pytest.fixture
def make_simulator(mapping: RefuMapping) -> Iterator:
    started: list[ControlledRefuSimulator] = []

    def make(**options: Any) -> ControlledRefuSimulator:
        options.setdefault("mapping", mapping)
        simulator = ControlledRefuSimulator(port=free_port(), model=RefuModel(), **options)
        simulator.freeze(1000.0)
        simulator.start()
        started.append(simulator)
        return simulator

    yield make
    for simulator in started:
        simulator.stop()


@pytest.fixture
def simulator(make_simulator) -> ControlledRefuSimulator:
    return make_simulator()


@pytest.fixture
def client(simulator: ControlledRefuSimulator) -> Iterator[ModbusTcpClient]:
    with ModbusTcpClient(simulator.host, port=simulator.port, timeout=2, retries=0) as modbus:
        yield modbus


def register_of(mapping: RefuMapping, seed_id: str) -> Register:
    [register] = [c.location for c in mapping.register_channels if c.seed_id == seed_id]
    return register


def words_of(client: ModbusTcpClient, register: Register) -> list[int]:
    """The words of one register value, read on their own."""
    read = client.read_input_registers if register.function == 4 else client.read_holding_registers
    answer = read(register.register, count=register.type.words)
    assert not answer.isError(), answer
    return answer.registers


def value_of(channel: Channel[Register], words: list[int]) -> float:
    """A channel's value from its words: struct reads them, then the scale applies."""
    register = channel.location
    ordered = words[::-1] if register.word_order is WordOrder.LSW_FIRST else words
    packed = struct.pack(f">{len(ordered)}H", *ordered)
    (raw,) = struct.unpack(UNPACKING[register.type.value], packed)
    return raw if channel.scale == 1 else raw * channel.scale


def test_every_register_holds_the_expected_value(mapping, simulator, client) -> None:
    answers = {
        4: (0x100, client.read_input_registers(0x100, count=0x56)),
        3: (0x200, client.read_holding_registers(0x200, count=11)),
    }
    assert not any(answer.isError() for _, answer in answers.values())

    expected = simulator.expected()
    assert len(expected) == len(mapping.register_channels)
    for channel in mapping.register_channels:
        register = channel.location
        start, answer = answers[register.function]
        words = answer.registers[register.register - start : register.end - start]
        assert value_of(channel, words) == expected[channel.seed_id], channel.seed_id


@pytest.mark.parametrize(
    ("seed_id", "value", "words"),
    [
        ("refu.ActivePower", -3000, [0xFFE2]),  # int16, 100 W steps: -30
        ("refu.BatteryCurrent", -12.5, [0xFF83]),  # int16, 0.1 A steps: -125
        ("refu.Soc", 0.82, [0x0052]),  # uint16, %: 82
        ("refu.AllowedCharge", -8000, [0x0050]),  # uint16, scale -100: 80
        ("refu.BatteryChargeEnergy", 0x0001_2345 * KWH, [0x2345, 0x0001]),  # int32, lsw first
        ("refu.SystemState", 5, [0x0005]),
        ("refu.BatteryFault1", 1 << 1, [0x0002]),
    ],
)
def test_a_pinned_value_is_served_as_these_words(simulator, client, seed_id, value, words) -> None:
    simulator.pin(seed_id, value)
    assert words_of(client, register_of(simulator.mapping, seed_id)) == words


@pytest.mark.parametrize(
    ("seed_id", "value", "words"),
    [
        ("refu.EnergyOut", 0x0001_0002 * 3600, [0x0001, 0x0002]),  # uint32, msw first, Wh
        ("refu.GridBalance", -70_000, [0xFFFE, 0xEE90]),  # int32, msw first
        ("refu.Stored", 70_000 * 3600, [0x1170, 0x0001]),  # int32, lsw first, Wh
        ("refu.CabinetTemperature", -12.5, [0xFF83]),  # int16, 0.1 degrees
    ],
)
def test_every_type_and_word_order_is_served_as_these_words(
    make_simulator, seed_id, value, words
) -> None:
    simulator = make_simulator(mapping=load_refu_mapping(REFU_TYPES_MAPPING))
    simulator.pin(seed_id, value)
    with ModbusTcpClient(simulator.host, port=simulator.port, timeout=2, retries=0) as client:
        assert words_of(client, register_of(simulator.mapping, seed_id)) == words
    assert simulator.expected()[seed_id] == value


def test_values_follow_the_model_clock(simulator, client, source) -> None:
    def read(name: str) -> float:
        return simulator.expected()[source[name]]

    simulator.freeze(300.0)  # discharging, no fault
    assert client.read_input_registers(0x100).registers == [4]
    assert read("ActivePower") > 0 and read("SystemState") == 4

    simulator.freeze(2345.0)  # charging, inside a fault minute (2340..2400)
    assert client.read_input_registers(0x100).registers == [5]
    assert read("ActivePower") < 0
    assert read("BatteryAlarm1") and read("BatteryFault1")


def test_pinned_counter_is_lsw_first(simulator, client, source) -> None:
    simulator.pin(source["BatteryChargeEnergy"], 0x0001_2345 * KWH)
    assert client.read_input_registers(0x126, count=2).registers == [0x2345, 0x0001]
    assert simulator.expected()[source["BatteryChargeEnergy"]] == 0x0001_2345 * KWH

    simulator.unpin(source["BatteryChargeEnergy"])
    assert client.read_input_registers(0x126, count=2).registers != [0x2345, 0x0001]


def test_pin_rejects_what_the_register_cannot_hold(simulator, source) -> None:
    with pytest.raises(ValueError):
        simulator.pin(source["Soc"], -0.5)
    with pytest.raises(KeyError):
        simulator.pin("NoSuchChannel", 1)


def test_writes_are_refused_and_change_nothing(simulator, client) -> None:
    before = client.read_holding_registers(0x200, count=11).registers
    writes = {
        5: client.write_coil(0, True),
        6: client.write_register(0x200, 0),
        15: client.write_coils(0, [True, True]),
        16: client.write_registers(0x203, [1, 2, 3]),
        22: client.mask_write_register(address=0x201, and_mask=0, or_mask=1),
        23: client.readwrite_registers(
            read_address=0x200, read_count=1, write_address=0x202, values=[1]
        ),
    }
    for function, answer in writes.items():
        assert answer.isError(), function
        assert answer.function_code == function | 0x80
        assert answer.exception_code == ILLEGAL_FUNCTION

    assert client.read_holding_registers(0x200, count=11).registers == before
    assert simulator.requests == [
        (3, 0x200, 11),
        (5, 0, 1),
        (6, 0x200, 1),
        (15, 0, 2),
        (16, 0x203, 3),
        (22, 0x201, 1),
        (23, 0x202, 1),
        (3, 0x200, 11),
    ]


def test_unknown_function_code_is_recorded_and_refused(simulator) -> None:
    with socket.create_connection((simulator.host, simulator.port), timeout=2) as raw:
        # MBAP header (transaction 7, protocol 0, length 6, unit 1), function 0x41, 2 words.
        raw.sendall(struct.pack(">HHHBBHH", 7, 0, 6, 1, 0x41, 0x100, 3))
        assert raw.recv(64) == struct.pack(">HHHBBB", 7, 0, 3, 1, 0xC1, ILLEGAL_FUNCTION)
    assert simulator.requests == [(0x41, 0x100, 3)]


def test_undefined_addresses_are_illegal(client) -> None:
    for answer in (
        client.read_coils(0),
        client.read_discrete_inputs(0),
        client.read_holding_registers(0x100),  # input registers are a separate space
        client.read_input_registers(0x200),
        client.read_input_registers(0x150, count=8),  # runs past 0x155
    ):
        assert answer.isError() and answer.exception_code == ILLEGAL_ADDRESS


def test_refused_range_fails_alone(make_simulator) -> None:
    simulator = make_simulator(refuse=[(4, 0x119, 0x119)])
    with ModbusTcpClient(simulator.host, port=simulator.port, timeout=2, retries=0) as client:
        spanning = client.read_input_registers(0x100, count=0x56)
        assert spanning.isError() and spanning.exception_code == ILLEGAL_ADDRESS
        assert not client.read_input_registers(0x100, count=0x19).isError()
        assert not client.read_input_registers(0x11A, count=0x3C).isError()


def test_delay_stalls_reads(simulator) -> None:
    simulator.delay_seconds = 1.0
    stalled = ModbusTcpClient(simulator.host, port=simulator.port, timeout=0.5, retries=0)
    with stalled, pytest.raises(ModbusException):
        stalled.read_input_registers(0x100)
    simulator.delay_seconds = 0.0
    with ModbusTcpClient(simulator.host, port=simulator.port, timeout=2, retries=0) as client:
        assert not client.read_input_registers(0x100).isError()


def test_stop_is_clean_and_idempotent(mapping) -> None:
    threads = set(threading.enumerate())
    simulator = RefuSimulator(port=free_port(), mapping=mapping, delay_seconds=5.0)
    client = ModbusTcpClient(simulator.host, port=simulator.port, timeout=0.2, retries=0)
    with simulator, client, pytest.raises(ModbusException):
        client.read_input_registers(0x100)  # leaves a stalled request behind
    simulator.stop()
    assert set(threading.enumerate()) == threads


def test_start_fails_on_a_taken_port(mapping) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        simulator = RefuSimulator(port=taken.getsockname()[1], mapping=mapping)
        with pytest.raises(RuntimeError):
            simulator.start()
    simulator.stop()


# -- the model alone


def test_model_stays_plausible() -> None:
    model = RefuModel(epoch=100.0)
    previous = model.values(100.0)
    assert previous["SystemState"] == 4
    assert min(previous["BatteryChargeEnergy"], previous["BatteryDischargeEnergy"]) > 65535 * KWH
    for step in range(1, 1200):
        values = model.values(100.0 + step * 7.3)
        assert 0.05 <= values["Soc"] <= 0.95
        assert -5000 <= values["ActivePower"] <= 5000
        assert math.isclose(
            values["BatteryVoltage"] * values["BatteryCurrent"], values["BatteryPower"]
        )
        phases = sum(values[f"ActivePowerL{n}"] for n in (1, 2, 3))
        assert math.isclose(phases, values["ActivePower"], abs_tol=1e-6)
        for counter in ("BatteryChargeEnergy", "BatteryDischargeEnergy"):
            assert values[counter] >= previous[counter]
        previous = values


def test_model_faults_one_minute_in_ten() -> None:
    model = RefuModel()
    states = [model.values(float(t))["SystemState"] for t in range(0, 3600, 10)]
    assert states.count(5) / len(states) == pytest.approx(0.1)
    fault = model.values(550.0)
    assert fault["SystemState"] == 5 and fault["BatteryFault1"] and fault["BatteryAlarm1"]
    assert not model.values(500.0)["BatteryFault1"]

"""The REFU simulator, read over real Modbus TCP with the mapping's own decoding."""

from __future__ import annotations

import math
import socket
import struct
import threading
from collections.abc import Iterator

import pytest
from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ModbusException

from exporter.refu.channels import RefuMapping, load_refu_mapping
from exporter.simulate import free_port
from exporter.simulate.refu import RefuModel, RefuSimulator

ILLEGAL_FUNCTION, ILLEGAL_ADDRESS = 1, 2
KWH = 3_600_000


@pytest.fixture(scope="module")
def mapping() -> RefuMapping:
    return load_refu_mapping()


@pytest.fixture(scope="module")
def source(mapping: RefuMapping) -> dict[str, str]:
    """Mapping source by the seed's channel name (sources may carry a device prefix)."""
    return {c.seed_id.rpartition(".")[2]: c.seed_id for c in mapping.register_channels}


@pytest.fixture
def make_simulator(mapping: RefuMapping) -> Iterator:
    started: list[RefuSimulator] = []

    def make(**options: object) -> RefuSimulator:
        simulator = RefuSimulator(port=free_port(), mapping=mapping, model=RefuModel(), **options)
        simulator.freeze(1000.0)
        simulator.start()
        started.append(simulator)
        return simulator

    yield make
    for simulator in started:
        simulator.stop()


@pytest.fixture
def simulator(make_simulator) -> RefuSimulator:
    return make_simulator()


@pytest.fixture
def client(simulator: RefuSimulator) -> Iterator[ModbusTcpClient]:
    with ModbusTcpClient(simulator.host, port=simulator.port, timeout=2, retries=0) as modbus:
        yield modbus


def decode_block(mapping: RefuMapping, function: int, start: int, words: list[int]) -> dict:
    values = {}
    for channel in mapping.register_channels:
        register = channel.location
        if register.function == function and start <= register.register < start + len(words):
            raw = register.decode(words[register.register - start : register.end - start])
            values[channel.seed_id] = raw if channel.scale == 1 else raw * channel.scale
    return values


def test_blocks_decode_to_expected(mapping, simulator, client) -> None:
    inputs = client.read_input_registers(0x100, count=0x56)
    holding = client.read_holding_registers(0x200, count=11)
    assert not inputs.isError() and not holding.isError()

    read = decode_block(mapping, 4, 0x100, inputs.registers)
    read |= decode_block(mapping, 3, 0x200, holding.registers)
    assert read == simulator.expected()
    assert len(read) == len(mapping.register_channels)


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

"""A simulated PowerOcean system publishing protobuf frames to an MQTT broker.

``PowerOceanModel`` makes the four seed messages for a system with two battery packs at a
given time; the energy balance holds (load = grid + solar - battery, battery positive
while charging). ``PowerOceanPublisher`` sends them like the cloud does: on
``/app/device/property/<serial>``, every few seconds, and all at once when a get-all
request arrives.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Sequence
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from google.protobuf.message import Message

from exporter.powerocean.device import PowerOceanMapping, load_powerocean_mapping
from exporter.powerocean.frames import build_payload
from exporter.powerocean.proto import powerocean_pb2 as pb

log = logging.getLogger(__name__)

_DAY = 3600.0  # s: one simulated day per hour
_CELLS = 16
_PACK_WH = 5120.0
_PACK_MAH = 100_000


class PowerOceanModel:
    def __init__(
        self,
        packs: Sequence[str] = ("HJ31ZDH4ZF1A0001", "HJ31ZDH4ZF1A0002"),
        epoch: float | None = None,
    ) -> None:
        self.packs = tuple(packs)
        #: When the lifetime counters have their start values.
        self.epoch = time.time() if epoch is None else epoch

    def flows(self, at: float) -> dict[str, float]:
        """Power flows in W: solar, load, battery (+ charging), grid (+ import); SoC in %."""
        phase = 2 * math.pi * (at % _DAY) / _DAY
        solar = max(0.0, 6000.0 * math.sin(phase))
        load = 450.0 + 350.0 * abs(math.sin(3 * phase))
        soc = 50.0 - 35.0 * math.cos(phase)  # charges while the sun shines
        battery = max(-5000.0, min(5000.0, solar - load))
        if (soc >= 95 and battery > 0) or (soc <= 10 and battery < 0):
            battery = 0.0
        grid = load - solar + battery
        return {"solar": solar, "load": load, "battery": battery, "grid": grid, "soc": soc}

    def messages(self, at: float) -> dict[str, Message]:
        flows = self.flows(at)
        soc = round(flows["soc"])
        stream = pb.JTS1_ENERGY_STREAM_REPORT(
            sysLoadPwr=flows["load"],
            sysGridPwr=flows["grid"],
            mpptPwr=flows["solar"],
            bpPwr=flows["battery"],
            bpSoc=soc,
        )
        heartbeat = pb.JTS1_EMS_HEARTBEAT(
            bpRemainWatth=soc / 100 * _PACK_WH * len(self.packs),
            pcs_act_pwr=flows["battery"] - flows["solar"],
            pcsAcFreq=50.0 + 0.02 * math.sin(at / 7),
        )
        ac = (flows["solar"] - flows["battery"]) / 3  # inverter output per phase
        for index, phase in enumerate(
            (heartbeat.pcsAPhase, heartbeat.pcsBPhase, heartbeat.pcsCPhase)
        ):
            volt = 230.0 + index * 0.4 + math.sin(at / 11 + index)
            phase.volt, phase.actPwr = volt, -ac
            phase.reactPwr = 40.0 + 10 * index
            phase.apparentPwr = math.hypot(ac, phase.reactPwr)
            phase.amp = phase.apparentPwr / volt
        mppt = heartbeat.mpptHeartBeat.add(mpptInsResist=1200.0, mpptTempVal=[38.5, 37.0, 36.2])
        for share in (0.55, 0.45):
            power = flows["solar"] * share
            volt = 380.0 + 20 * share if power else 0.0
            mppt.mpptPv.add(
                vol=volt, amp=power / volt if volt else 0.0, pwr=power, lightSta=int(power > 0)
            )
        hours = (at - self.epoch) / 3600
        change = pb.JTS1_EMS_CHANGE_REPORT(
            bpSoc=soc,
            bpTotalChgEnergy=int(1_250_000 + 2500 * hours),
            bpTotalDsgEnergy=int(1_180_000 + 2300 * hours),
            pcs_run_sta=1,
        )
        packs = pb.JTS1_BP_STA_REPORT()
        for slot, serial in enumerate(self.packs, start=1):
            self._pack(packs.bpSta.add(), serial, slot, flows, hours)
        return {
            "JTS1_ENERGY_STREAM_REPORT": stream,
            "JTS1_EMS_HEARTBEAT": heartbeat,
            "JTS1_EMS_CHANGE_REPORT": change,
            "JTS1_BP_STA_REPORT": packs,
        }

    def _pack(
        self, pack: pb.bpStaReport, serial: str, slot: int, flows: dict[str, float], hours: float
    ) -> None:
        share = flows["battery"] / len(self.packs)
        soc = flows["soc"] + slot - 1.5  # two packs a little apart
        cell = 3200.0 + 2.0 * soc  # mV
        cells = [cell + 3 * math.sin(i + slot) for i in range(_CELLS)]
        volt = sum(cells) / 1000
        pack.bpSn = serial.encode()
        pack.bpDsrc = slot
        pack.bpPwr = share
        pack.bpSoc = round(soc)
        pack.bpSoh = 100
        pack.bpVol = volt
        pack.bpAmp = share / volt
        pack.bpBusVol = 820.0
        pack.bpCellVol.extend(cells)
        pack.bpMaxCellVol, pack.bpMinCellVol = max(cells), min(cells)
        pack.bpTemp.extend([24.0 + slot, 24.5 + slot, 25.0 + slot, 24.2 + slot])
        pack.bpMaxCellTemp, pack.bpMinCellTemp = 25.0 + slot, 24.0 + slot
        pack.bpHvMosTemp, pack.bpLvMosTemp = 30.0, 29.0
        pack.bpMaxMosTemp, pack.bpMinMosTemp = 30.0, 29.0
        pack.bpPtcTemp = pack.bpPtcTemp2 = 22.0
        pack.bpHtsTemp, pack.bpBusNegTemp, pack.bpBusPosTemp, pack.bpEnvTemp = (
            26.0,
            27.0,
            27.5,
            21.0,
        )
        pack.bpCycles = 58 + slot
        pack.bpAccuChgCap = int(5_489_192 + 12_000 * hours)
        pack.bpAccuDsgCap = int(5_301_004 + 11_000 * hours)
        pack.bpAccuChgEnergy = int(295_209 + 650 * hours)
        pack.bpAccuDsgEnergy = int(284_551 + 600 * hours)
        pack.bpDesignCap, pack.bpFullCap = _PACK_MAH, 98_500
        pack.bpRemainWatth = soc / 100 * _PACK_WH
        pack.bpEcloundSoc = 65535  # "none", as real packs send it
        pack.bpRealSoc, pack.bpRealSoh = soc, 99.2
        pack.bpDownLimitSoc, pack.bpUpLimitSoc = 5, 100
        pack.bpChgSop, pack.bpDsgSop = 100, 100
        pack.bpTargetSoc, pack.bpMaxSoc, pack.bpMinSoc, pack.bpLimitSoc = 100.0, 100.0, 0.0, 100.0
        pack.bpDiffSoc = abs(slot - 1.5)
        pack.bpCalendarSoh, pack.bpCycleSoh = 99.5, 99.0
        pack.bpRunSta = 1
        pack.bmsRunSta = 1
        pack.bpSysState = 2
        pack.bmsChgDsgSta = 2 if share > 0 else 1
        pack.bpHeartbeatVer = 3
        pack.bpTimestamp = int(time.time())
        pack.moduleProductInfo = 104
        pack.moduleAplSwVer = 16908803
        pack.moduleLoaderSwVer = 16842752


class PowerOceanPublisher:
    """Publishes a ``PowerOceanModel`` for one serial; answers get-all requests."""

    def __init__(
        self,
        broker_url: str,
        serial: str,
        *,
        interval: float = 2.0,
        model: PowerOceanModel | None = None,
        mapping: PowerOceanMapping | None = None,
    ) -> None:
        self.serial = serial
        self.interval = interval
        self.model = model or PowerOceanModel()
        routes = (mapping or load_powerocean_mapping()).routes
        self._commands = {route.name: key for key, route in routes.items()}
        url = urlsplit(broker_url)
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"powerocean-simulator-{serial}"
        )
        if url.scheme == "mqtts":
            self._client.tls_set()
        if url.username:
            self._client.username_pw_set(url.username, url.password)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._host = url.hostname or "127.0.0.1"
        self._port = url.port or (8883 if url.scheme == "mqtts" else 1883)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def topic(self) -> str:
        return f"/app/device/property/{self.serial}"

    def payload(self, names: Sequence[str], at: float | None = None) -> bytes:
        messages = self.model.messages(time.time() if at is None else at)
        return build_payload(
            self.serial, [(*self._commands[name], messages[name]) for name in names]
        )

    def publish(self, names: Sequence[str]) -> None:
        self._client.publish(self.topic, self.payload(names), qos=1)

    def start(self) -> None:
        self._client.connect_async(self._host, self._port, keepalive=30)
        self._client.loop_start()
        self._thread = threading.Thread(target=self._run, name="powerocean-simulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._client.disconnect()
        self._client.loop_stop()

    def _run(self) -> None:
        tick = 0
        while not self._stop.wait(self.interval):
            if not self._client.is_connected():
                continue
            # Like the device: the energy stream often, the rest less often.
            names = ["JTS1_ENERGY_STREAM_REPORT"]
            if tick % 3 == 0:
                names += ["JTS1_EMS_HEARTBEAT", "JTS1_BP_STA_REPORT"]
            if tick % 10 == 0:
                names.append("JTS1_EMS_CHANGE_REPORT")
            self.publish(names)
            tick += 1

    def _on_connect(self, client: mqtt.Client, userdata, flags, reason_code, properties) -> None:  # type: ignore[no-untyped-def]
        if reason_code.is_failure:
            log.warning("simulator: broker refused the connection: %s", reason_code)
            return
        client.subscribe(f"/app/+/{self.serial}/thing/property/#", qos=1)

    def _on_message(self, client: mqtt.Client, userdata, message: mqtt.MQTTMessage) -> None:  # type: ignore[no-untyped-def]
        if message.topic.endswith("/thing/property/get"):
            self.publish(list(self._commands))

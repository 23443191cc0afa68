from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class HeaderMessage(_message.Message):
    __slots__ = ("header",)
    HEADER_FIELD_NUMBER: _ClassVar[int]
    header: _containers.RepeatedCompositeFieldContainer[Header]
    def __init__(self, header: _Optional[_Iterable[_Union[Header, _Mapping]]] = ...) -> None: ...

class Header(_message.Message):
    __slots__ = ("pdata", "src", "dest", "d_src", "d_dest", "enc_type", "check_type", "cmd_func", "cmd_id", "data_len", "need_ack", "is_ack", "seq", "product_id", "version", "payload_ver", "time_snap", "is_rw_cmd", "is_queue", "ack_type", "code", "module_sn", "device_sn", "module_sn_copy")
    PDATA_FIELD_NUMBER: _ClassVar[int]
    SRC_FIELD_NUMBER: _ClassVar[int]
    DEST_FIELD_NUMBER: _ClassVar[int]
    D_SRC_FIELD_NUMBER: _ClassVar[int]
    D_DEST_FIELD_NUMBER: _ClassVar[int]
    ENC_TYPE_FIELD_NUMBER: _ClassVar[int]
    CHECK_TYPE_FIELD_NUMBER: _ClassVar[int]
    CMD_FUNC_FIELD_NUMBER: _ClassVar[int]
    CMD_ID_FIELD_NUMBER: _ClassVar[int]
    DATA_LEN_FIELD_NUMBER: _ClassVar[int]
    NEED_ACK_FIELD_NUMBER: _ClassVar[int]
    IS_ACK_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_VER_FIELD_NUMBER: _ClassVar[int]
    TIME_SNAP_FIELD_NUMBER: _ClassVar[int]
    IS_RW_CMD_FIELD_NUMBER: _ClassVar[int]
    IS_QUEUE_FIELD_NUMBER: _ClassVar[int]
    ACK_TYPE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    MODULE_SN_FIELD_NUMBER: _ClassVar[int]
    DEVICE_SN_FIELD_NUMBER: _ClassVar[int]
    MODULE_SN_COPY_FIELD_NUMBER: _ClassVar[int]
    pdata: bytes
    src: int
    dest: int
    d_src: int
    d_dest: int
    enc_type: int
    check_type: int
    cmd_func: int
    cmd_id: int
    data_len: int
    need_ack: int
    is_ack: int
    seq: int
    product_id: int
    version: int
    payload_ver: int
    time_snap: int
    is_rw_cmd: int
    is_queue: int
    ack_type: int
    code: str
    module_sn: str
    device_sn: str
    module_sn_copy: str
    def __init__(self, pdata: _Optional[bytes] = ..., src: _Optional[int] = ..., dest: _Optional[int] = ..., d_src: _Optional[int] = ..., d_dest: _Optional[int] = ..., enc_type: _Optional[int] = ..., check_type: _Optional[int] = ..., cmd_func: _Optional[int] = ..., cmd_id: _Optional[int] = ..., data_len: _Optional[int] = ..., need_ack: _Optional[int] = ..., is_ack: _Optional[int] = ..., seq: _Optional[int] = ..., product_id: _Optional[int] = ..., version: _Optional[int] = ..., payload_ver: _Optional[int] = ..., time_snap: _Optional[int] = ..., is_rw_cmd: _Optional[int] = ..., is_queue: _Optional[int] = ..., ack_type: _Optional[int] = ..., code: _Optional[str] = ..., module_sn: _Optional[str] = ..., device_sn: _Optional[str] = ..., module_sn_copy: _Optional[str] = ..., **kwargs) -> None: ...

class JTS1_ENERGY_STREAM_REPORT(_message.Message):
    __slots__ = ("sysLoadPwr", "sysGridPwr", "mpptPwr", "bpPwr", "bpSoc", "pv1_pwr", "pv2_pwr", "pv_inv_pwr", "pv3_pwr", "other_pv_pwr")
    SYSLOADPWR_FIELD_NUMBER: _ClassVar[int]
    SYSGRIDPWR_FIELD_NUMBER: _ClassVar[int]
    MPPTPWR_FIELD_NUMBER: _ClassVar[int]
    BPPWR_FIELD_NUMBER: _ClassVar[int]
    BPSOC_FIELD_NUMBER: _ClassVar[int]
    PV1_PWR_FIELD_NUMBER: _ClassVar[int]
    PV2_PWR_FIELD_NUMBER: _ClassVar[int]
    PV_INV_PWR_FIELD_NUMBER: _ClassVar[int]
    PV3_PWR_FIELD_NUMBER: _ClassVar[int]
    OTHER_PV_PWR_FIELD_NUMBER: _ClassVar[int]
    sysLoadPwr: float
    sysGridPwr: float
    mpptPwr: float
    bpPwr: float
    bpSoc: int
    pv1_pwr: float
    pv2_pwr: float
    pv_inv_pwr: float
    pv3_pwr: float
    other_pv_pwr: float
    def __init__(self, sysLoadPwr: _Optional[float] = ..., sysGridPwr: _Optional[float] = ..., mpptPwr: _Optional[float] = ..., bpPwr: _Optional[float] = ..., bpSoc: _Optional[int] = ..., pv1_pwr: _Optional[float] = ..., pv2_pwr: _Optional[float] = ..., pv_inv_pwr: _Optional[float] = ..., pv3_pwr: _Optional[float] = ..., other_pv_pwr: _Optional[float] = ...) -> None: ...

class pcsPhase(_message.Message):
    __slots__ = ("volt", "amp", "actPwr", "reactPwr", "apparentPwr")
    VOLT_FIELD_NUMBER: _ClassVar[int]
    AMP_FIELD_NUMBER: _ClassVar[int]
    ACTPWR_FIELD_NUMBER: _ClassVar[int]
    REACTPWR_FIELD_NUMBER: _ClassVar[int]
    APPARENTPWR_FIELD_NUMBER: _ClassVar[int]
    volt: float
    amp: float
    actPwr: float
    reactPwr: float
    apparentPwr: float
    def __init__(self, volt: _Optional[float] = ..., amp: _Optional[float] = ..., actPwr: _Optional[float] = ..., reactPwr: _Optional[float] = ..., apparentPwr: _Optional[float] = ...) -> None: ...

class mpptPv(_message.Message):
    __slots__ = ("vol", "amp", "pwr", "lightSta")
    VOL_FIELD_NUMBER: _ClassVar[int]
    AMP_FIELD_NUMBER: _ClassVar[int]
    PWR_FIELD_NUMBER: _ClassVar[int]
    LIGHTSTA_FIELD_NUMBER: _ClassVar[int]
    vol: float
    amp: float
    pwr: float
    lightSta: int
    def __init__(self, vol: _Optional[float] = ..., amp: _Optional[float] = ..., pwr: _Optional[float] = ..., lightSta: _Optional[int] = ...) -> None: ...

class mpptHeartBeat(_message.Message):
    __slots__ = ("mpptPv", "mpptInsResist", "mpptTempVal")
    MPPTPV_FIELD_NUMBER: _ClassVar[int]
    MPPTINSRESIST_FIELD_NUMBER: _ClassVar[int]
    MPPTTEMPVAL_FIELD_NUMBER: _ClassVar[int]
    mpptPv: _containers.RepeatedCompositeFieldContainer[mpptPv]
    mpptInsResist: float
    mpptTempVal: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, mpptPv: _Optional[_Iterable[_Union[mpptPv, _Mapping]]] = ..., mpptInsResist: _Optional[float] = ..., mpptTempVal: _Optional[_Iterable[float]] = ...) -> None: ...

class pcsLoadInfo(_message.Message):
    __slots__ = ("vol", "amp", "freq", "pwr")
    VOL_FIELD_NUMBER: _ClassVar[int]
    AMP_FIELD_NUMBER: _ClassVar[int]
    FREQ_FIELD_NUMBER: _ClassVar[int]
    PWR_FIELD_NUMBER: _ClassVar[int]
    vol: float
    amp: float
    freq: float
    pwr: float
    def __init__(self, vol: _Optional[float] = ..., amp: _Optional[float] = ..., freq: _Optional[float] = ..., pwr: _Optional[float] = ...) -> None: ...

class meterHeartBeat(_message.Message):
    __slots__ = ("meterType", "meterAddr", "meterData")
    METERTYPE_FIELD_NUMBER: _ClassVar[int]
    METERADDR_FIELD_NUMBER: _ClassVar[int]
    METERDATA_FIELD_NUMBER: _ClassVar[int]
    meterType: int
    meterAddr: int
    meterData: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, meterType: _Optional[int] = ..., meterAddr: _Optional[int] = ..., meterData: _Optional[_Iterable[float]] = ...) -> None: ...

class JTS1_EMS_HEARTBEAT(_message.Message):
    __slots__ = ("bpRemainWatth", "bp_dsg_time", "pcs_act_pwr", "pcsAcFreq", "pcsAPhase", "pcsBPhase", "pcsCPhase", "pcsLoadInfo", "pcsBusVolt", "pcsLeakAmp", "pcsDci", "pcs_dcv", "meterHeartBeat", "mpptHeartBeat", "pcsVbusRef", "pcsActivePowerRef", "pcsActivePowerLimitUp", "pcsActivePowerLimitDn", "pcs_bp_power", "pcs_bp_power_chg_limit", "pcsRelayStateShow", "pcsGridSafetyFuncRecord", "pcsGridSafetyStateRecord", "pcsReactivePowerRef", "pcs_meter_power", "pcs_comm_interface_state", "pcsVgridThd", "pcs_interrupt_occupancy_rate", "ems_mppt_selfcheck_state", "ems_mppt_startup_state", "ems_bp_selfcheck_state", "ems_bp_startup_state", "ems_pcs_selfcheck_state", "ems_pcs_startup_state", "emsBusVolt", "emsBpAliveNum", "emsBpPower", "emsBpChg", "emsBpDsg", "emsAcMakeupTriggleSoc", "emsAcMakeupExitSoc", "emsAcMakeupMinSoc", "ems_mppt_run_state", "ems_mppt_mod_stat", "emsMpptHbState", "emsNtcTempMax", "emsBusVoltErrSlidFilter", "emsBusVoltRipple", "ems_pv_inv_pwr", "ems_work_mode", "pcs_backup_pwr")
    BPREMAINWATTH_FIELD_NUMBER: _ClassVar[int]
    BP_DSG_TIME_FIELD_NUMBER: _ClassVar[int]
    PCS_ACT_PWR_FIELD_NUMBER: _ClassVar[int]
    PCSACFREQ_FIELD_NUMBER: _ClassVar[int]
    PCSAPHASE_FIELD_NUMBER: _ClassVar[int]
    PCSBPHASE_FIELD_NUMBER: _ClassVar[int]
    PCSCPHASE_FIELD_NUMBER: _ClassVar[int]
    PCSLOADINFO_FIELD_NUMBER: _ClassVar[int]
    PCSBUSVOLT_FIELD_NUMBER: _ClassVar[int]
    PCSLEAKAMP_FIELD_NUMBER: _ClassVar[int]
    PCSDCI_FIELD_NUMBER: _ClassVar[int]
    PCS_DCV_FIELD_NUMBER: _ClassVar[int]
    METERHEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    MPPTHEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    PCSVBUSREF_FIELD_NUMBER: _ClassVar[int]
    PCSACTIVEPOWERREF_FIELD_NUMBER: _ClassVar[int]
    PCSACTIVEPOWERLIMITUP_FIELD_NUMBER: _ClassVar[int]
    PCSACTIVEPOWERLIMITDN_FIELD_NUMBER: _ClassVar[int]
    PCS_BP_POWER_FIELD_NUMBER: _ClassVar[int]
    PCS_BP_POWER_CHG_LIMIT_FIELD_NUMBER: _ClassVar[int]
    PCSRELAYSTATESHOW_FIELD_NUMBER: _ClassVar[int]
    PCSGRIDSAFETYFUNCRECORD_FIELD_NUMBER: _ClassVar[int]
    PCSGRIDSAFETYSTATERECORD_FIELD_NUMBER: _ClassVar[int]
    PCSREACTIVEPOWERREF_FIELD_NUMBER: _ClassVar[int]
    PCS_METER_POWER_FIELD_NUMBER: _ClassVar[int]
    PCS_COMM_INTERFACE_STATE_FIELD_NUMBER: _ClassVar[int]
    PCSVGRIDTHD_FIELD_NUMBER: _ClassVar[int]
    PCS_INTERRUPT_OCCUPANCY_RATE_FIELD_NUMBER: _ClassVar[int]
    EMS_MPPT_SELFCHECK_STATE_FIELD_NUMBER: _ClassVar[int]
    EMS_MPPT_STARTUP_STATE_FIELD_NUMBER: _ClassVar[int]
    EMS_BP_SELFCHECK_STATE_FIELD_NUMBER: _ClassVar[int]
    EMS_BP_STARTUP_STATE_FIELD_NUMBER: _ClassVar[int]
    EMS_PCS_SELFCHECK_STATE_FIELD_NUMBER: _ClassVar[int]
    EMS_PCS_STARTUP_STATE_FIELD_NUMBER: _ClassVar[int]
    EMSBUSVOLT_FIELD_NUMBER: _ClassVar[int]
    EMSBPALIVENUM_FIELD_NUMBER: _ClassVar[int]
    EMSBPPOWER_FIELD_NUMBER: _ClassVar[int]
    EMSBPCHG_FIELD_NUMBER: _ClassVar[int]
    EMSBPDSG_FIELD_NUMBER: _ClassVar[int]
    EMSACMAKEUPTRIGGLESOC_FIELD_NUMBER: _ClassVar[int]
    EMSACMAKEUPEXITSOC_FIELD_NUMBER: _ClassVar[int]
    EMSACMAKEUPMINSOC_FIELD_NUMBER: _ClassVar[int]
    EMS_MPPT_RUN_STATE_FIELD_NUMBER: _ClassVar[int]
    EMS_MPPT_MOD_STAT_FIELD_NUMBER: _ClassVar[int]
    EMSMPPTHBSTATE_FIELD_NUMBER: _ClassVar[int]
    EMSNTCTEMPMAX_FIELD_NUMBER: _ClassVar[int]
    EMSBUSVOLTERRSLIDFILTER_FIELD_NUMBER: _ClassVar[int]
    EMSBUSVOLTRIPPLE_FIELD_NUMBER: _ClassVar[int]
    EMS_PV_INV_PWR_FIELD_NUMBER: _ClassVar[int]
    EMS_WORK_MODE_FIELD_NUMBER: _ClassVar[int]
    PCS_BACKUP_PWR_FIELD_NUMBER: _ClassVar[int]
    bpRemainWatth: float
    bp_dsg_time: int
    pcs_act_pwr: float
    pcsAcFreq: float
    pcsAPhase: pcsPhase
    pcsBPhase: pcsPhase
    pcsCPhase: pcsPhase
    pcsLoadInfo: _containers.RepeatedCompositeFieldContainer[pcsLoadInfo]
    pcsBusVolt: float
    pcsLeakAmp: float
    pcsDci: float
    pcs_dcv: float
    meterHeartBeat: _containers.RepeatedCompositeFieldContainer[meterHeartBeat]
    mpptHeartBeat: _containers.RepeatedCompositeFieldContainer[mpptHeartBeat]
    pcsVbusRef: float
    pcsActivePowerRef: float
    pcsActivePowerLimitUp: float
    pcsActivePowerLimitDn: float
    pcs_bp_power: float
    pcs_bp_power_chg_limit: float
    pcsRelayStateShow: int
    pcsGridSafetyFuncRecord: int
    pcsGridSafetyStateRecord: int
    pcsReactivePowerRef: float
    pcs_meter_power: float
    pcs_comm_interface_state: int
    pcsVgridThd: float
    pcs_interrupt_occupancy_rate: float
    ems_mppt_selfcheck_state: int
    ems_mppt_startup_state: int
    ems_bp_selfcheck_state: int
    ems_bp_startup_state: int
    ems_pcs_selfcheck_state: int
    ems_pcs_startup_state: int
    emsBusVolt: float
    emsBpAliveNum: int
    emsBpPower: float
    emsBpChg: float
    emsBpDsg: float
    emsAcMakeupTriggleSoc: int
    emsAcMakeupExitSoc: int
    emsAcMakeupMinSoc: int
    ems_mppt_run_state: int
    ems_mppt_mod_stat: int
    emsMpptHbState: int
    emsNtcTempMax: float
    emsBusVoltErrSlidFilter: float
    emsBusVoltRipple: float
    ems_pv_inv_pwr: float
    ems_work_mode: int
    pcs_backup_pwr: float
    def __init__(self, bpRemainWatth: _Optional[float] = ..., bp_dsg_time: _Optional[int] = ..., pcs_act_pwr: _Optional[float] = ..., pcsAcFreq: _Optional[float] = ..., pcsAPhase: _Optional[_Union[pcsPhase, _Mapping]] = ..., pcsBPhase: _Optional[_Union[pcsPhase, _Mapping]] = ..., pcsCPhase: _Optional[_Union[pcsPhase, _Mapping]] = ..., pcsLoadInfo: _Optional[_Iterable[_Union[pcsLoadInfo, _Mapping]]] = ..., pcsBusVolt: _Optional[float] = ..., pcsLeakAmp: _Optional[float] = ..., pcsDci: _Optional[float] = ..., pcs_dcv: _Optional[float] = ..., meterHeartBeat: _Optional[_Iterable[_Union[meterHeartBeat, _Mapping]]] = ..., mpptHeartBeat: _Optional[_Iterable[_Union[mpptHeartBeat, _Mapping]]] = ..., pcsVbusRef: _Optional[float] = ..., pcsActivePowerRef: _Optional[float] = ..., pcsActivePowerLimitUp: _Optional[float] = ..., pcsActivePowerLimitDn: _Optional[float] = ..., pcs_bp_power: _Optional[float] = ..., pcs_bp_power_chg_limit: _Optional[float] = ..., pcsRelayStateShow: _Optional[int] = ..., pcsGridSafetyFuncRecord: _Optional[int] = ..., pcsGridSafetyStateRecord: _Optional[int] = ..., pcsReactivePowerRef: _Optional[float] = ..., pcs_meter_power: _Optional[float] = ..., pcs_comm_interface_state: _Optional[int] = ..., pcsVgridThd: _Optional[float] = ..., pcs_interrupt_occupancy_rate: _Optional[float] = ..., ems_mppt_selfcheck_state: _Optional[int] = ..., ems_mppt_startup_state: _Optional[int] = ..., ems_bp_selfcheck_state: _Optional[int] = ..., ems_bp_startup_state: _Optional[int] = ..., ems_pcs_selfcheck_state: _Optional[int] = ..., ems_pcs_startup_state: _Optional[int] = ..., emsBusVolt: _Optional[float] = ..., emsBpAliveNum: _Optional[int] = ..., emsBpPower: _Optional[float] = ..., emsBpChg: _Optional[float] = ..., emsBpDsg: _Optional[float] = ..., emsAcMakeupTriggleSoc: _Optional[int] = ..., emsAcMakeupExitSoc: _Optional[int] = ..., emsAcMakeupMinSoc: _Optional[int] = ..., ems_mppt_run_state: _Optional[int] = ..., ems_mppt_mod_stat: _Optional[int] = ..., emsMpptHbState: _Optional[int] = ..., emsNtcTempMax: _Optional[float] = ..., emsBusVoltErrSlidFilter: _Optional[float] = ..., emsBusVoltRipple: _Optional[float] = ..., ems_pv_inv_pwr: _Optional[float] = ..., ems_work_mode: _Optional[int] = ..., pcs_backup_pwr: _Optional[float] = ...) -> None: ...

class JTS1_EMS_CHANGE_REPORT(_message.Message):
    __slots__ = ("sys_work_sta", "sys_grid_sta", "ems_work_mode", "ems_backup_event", "bp_chg_dsg_sta", "ems_keep_soc", "bpSoc", "emsSysSelfCheckStat", "bp_online_sum", "sys_on_off_machine_stat", "sys_bat_chg_up_limit", "sys_bat_dsg_down_limit", "bpTotalChgEnergy", "bpTotalDsgEnergy", "sys_bat_backup_ratio", "emsFeedMode", "emsFeedRatio", "emsFeedPwr", "sys_meter_cfg", "sys_type_cfg", "pcs_run_sta", "pcs_ac_err_code", "pcs_dc_err_code", "pcsOverVol1", "pcsOverVol2", "pcsOverVol3", "pcs_over_vol_time1", "pcs_over_vol_time2", "pcs_over_vol_time3", "pcsLowVol1", "pcsLowVol2", "pcsLowVol3", "pcsLowVolTime1", "pcsLowVolTime2", "pcsLowVolTime3", "pcs_over_vol_recover", "pcs_low_vol_recover", "pcs_vol_recover_time", "pcs_10min_over_vol", "pcs_10min_over_vol_time", "pcsOverFreq1", "pcsOverFreq2", "pcs_over_freq_time1", "pcs_over_freq_time2", "pcsLowFreq1", "pcsLowFreq2", "pcs_low_freq_time1", "pcs_low_freq_time2", "pcsOverFreqRecover", "pcs_low_freq_recover", "pcs_freq_recover_time", "pcs_hvrt_lvrt_switch", "pcs_island_detect_switch", "pcs_anti_back_flow_switch", "pcsPfValue", "pcs_safety_country_code_selection", "pcs_reconnect_grid_detect_switch", "pcsOnGridWaitTime", "rate_ctrl_swtich", "sys_rate_ctrl_time", "ems_ctrl_led_type", "ems_ctrl_led_bright", "sys_mul_peak_switch", "sysMulPeakTime", "ems_sg_ready_en", "ems_sg_run_stat", "ems_stop_all", "iot_4g_on", "iot_4g_sta", "iot_4g_pdp", "iot_4g_err", "sys_heat_stat", "pcs_ac_warning_code", "pcs_relay_self_check_sta", "pcsRunFsmState", "mppt1_fault_code", "mppt2_fault_code", "mppt1_warning_code", "mppt2_warning_code", "bp_line_off_flag", "bp_restart_flag", "bp_reverse_flag", "bat_relay_close_fail_flag", "bat_soft_relay_status", "bat_realy_status", "pcsRelayStateShow", "ems_work_state", "afci_fault_cnt_ch1", "afci_fault_value_ch1", "afci_fault_max_value_ch1", "afci_protect_value_ch1", "afci_fault_flag_ch1", "afci_fault_cnt_ch2", "afci_fault_value_ch2", "afci_fault_max_value_ch2", "afci_protect_value_ch2", "afci_fault_flag_ch2", "afci_sellf_test_result", "afci_switch_freq_ch1", "afci_switch_freq_ch2", "sys_cal_stat", "eth_wan_stat", "wifi_sta_stat", "virtual_hard_edition", "user_role", "chg_dsg_mode", "chg_dsg_pwr", "parallel_allow_state", "parallel_type_set", "parallel_type", "afci_is_exist", "afci_en", "afci_en_set", "parallel_type_cur", "battery_limit_reason", "ieee20305_connect_stat", "ieee20305_ctrl_stat", "ieee20305_last_ctrl_timestamp", "grid_is_energized")
    SYS_WORK_STA_FIELD_NUMBER: _ClassVar[int]
    SYS_GRID_STA_FIELD_NUMBER: _ClassVar[int]
    EMS_WORK_MODE_FIELD_NUMBER: _ClassVar[int]
    EMS_BACKUP_EVENT_FIELD_NUMBER: _ClassVar[int]
    BP_CHG_DSG_STA_FIELD_NUMBER: _ClassVar[int]
    EMS_KEEP_SOC_FIELD_NUMBER: _ClassVar[int]
    BPSOC_FIELD_NUMBER: _ClassVar[int]
    EMSSYSSELFCHECKSTAT_FIELD_NUMBER: _ClassVar[int]
    BP_ONLINE_SUM_FIELD_NUMBER: _ClassVar[int]
    SYS_ON_OFF_MACHINE_STAT_FIELD_NUMBER: _ClassVar[int]
    SYS_BAT_CHG_UP_LIMIT_FIELD_NUMBER: _ClassVar[int]
    SYS_BAT_DSG_DOWN_LIMIT_FIELD_NUMBER: _ClassVar[int]
    BPTOTALCHGENERGY_FIELD_NUMBER: _ClassVar[int]
    BPTOTALDSGENERGY_FIELD_NUMBER: _ClassVar[int]
    SYS_BAT_BACKUP_RATIO_FIELD_NUMBER: _ClassVar[int]
    EMSFEEDMODE_FIELD_NUMBER: _ClassVar[int]
    EMSFEEDRATIO_FIELD_NUMBER: _ClassVar[int]
    EMSFEEDPWR_FIELD_NUMBER: _ClassVar[int]
    SYS_METER_CFG_FIELD_NUMBER: _ClassVar[int]
    SYS_TYPE_CFG_FIELD_NUMBER: _ClassVar[int]
    PCS_RUN_STA_FIELD_NUMBER: _ClassVar[int]
    PCS_AC_ERR_CODE_FIELD_NUMBER: _ClassVar[int]
    PCS_DC_ERR_CODE_FIELD_NUMBER: _ClassVar[int]
    PCSOVERVOL1_FIELD_NUMBER: _ClassVar[int]
    PCSOVERVOL2_FIELD_NUMBER: _ClassVar[int]
    PCSOVERVOL3_FIELD_NUMBER: _ClassVar[int]
    PCS_OVER_VOL_TIME1_FIELD_NUMBER: _ClassVar[int]
    PCS_OVER_VOL_TIME2_FIELD_NUMBER: _ClassVar[int]
    PCS_OVER_VOL_TIME3_FIELD_NUMBER: _ClassVar[int]
    PCSLOWVOL1_FIELD_NUMBER: _ClassVar[int]
    PCSLOWVOL2_FIELD_NUMBER: _ClassVar[int]
    PCSLOWVOL3_FIELD_NUMBER: _ClassVar[int]
    PCSLOWVOLTIME1_FIELD_NUMBER: _ClassVar[int]
    PCSLOWVOLTIME2_FIELD_NUMBER: _ClassVar[int]
    PCSLOWVOLTIME3_FIELD_NUMBER: _ClassVar[int]
    PCS_OVER_VOL_RECOVER_FIELD_NUMBER: _ClassVar[int]
    PCS_LOW_VOL_RECOVER_FIELD_NUMBER: _ClassVar[int]
    PCS_VOL_RECOVER_TIME_FIELD_NUMBER: _ClassVar[int]
    PCS_10MIN_OVER_VOL_FIELD_NUMBER: _ClassVar[int]
    PCS_10MIN_OVER_VOL_TIME_FIELD_NUMBER: _ClassVar[int]
    PCSOVERFREQ1_FIELD_NUMBER: _ClassVar[int]
    PCSOVERFREQ2_FIELD_NUMBER: _ClassVar[int]
    PCS_OVER_FREQ_TIME1_FIELD_NUMBER: _ClassVar[int]
    PCS_OVER_FREQ_TIME2_FIELD_NUMBER: _ClassVar[int]
    PCSLOWFREQ1_FIELD_NUMBER: _ClassVar[int]
    PCSLOWFREQ2_FIELD_NUMBER: _ClassVar[int]
    PCS_LOW_FREQ_TIME1_FIELD_NUMBER: _ClassVar[int]
    PCS_LOW_FREQ_TIME2_FIELD_NUMBER: _ClassVar[int]
    PCSOVERFREQRECOVER_FIELD_NUMBER: _ClassVar[int]
    PCS_LOW_FREQ_RECOVER_FIELD_NUMBER: _ClassVar[int]
    PCS_FREQ_RECOVER_TIME_FIELD_NUMBER: _ClassVar[int]
    PCS_HVRT_LVRT_SWITCH_FIELD_NUMBER: _ClassVar[int]
    PCS_ISLAND_DETECT_SWITCH_FIELD_NUMBER: _ClassVar[int]
    PCS_ANTI_BACK_FLOW_SWITCH_FIELD_NUMBER: _ClassVar[int]
    PCSPFVALUE_FIELD_NUMBER: _ClassVar[int]
    PCS_SAFETY_COUNTRY_CODE_SELECTION_FIELD_NUMBER: _ClassVar[int]
    PCS_RECONNECT_GRID_DETECT_SWITCH_FIELD_NUMBER: _ClassVar[int]
    PCSONGRIDWAITTIME_FIELD_NUMBER: _ClassVar[int]
    RATE_CTRL_SWTICH_FIELD_NUMBER: _ClassVar[int]
    SYS_RATE_CTRL_TIME_FIELD_NUMBER: _ClassVar[int]
    EMS_CTRL_LED_TYPE_FIELD_NUMBER: _ClassVar[int]
    EMS_CTRL_LED_BRIGHT_FIELD_NUMBER: _ClassVar[int]
    SYS_MUL_PEAK_SWITCH_FIELD_NUMBER: _ClassVar[int]
    SYSMULPEAKTIME_FIELD_NUMBER: _ClassVar[int]
    EMS_SG_READY_EN_FIELD_NUMBER: _ClassVar[int]
    EMS_SG_RUN_STAT_FIELD_NUMBER: _ClassVar[int]
    EMS_STOP_ALL_FIELD_NUMBER: _ClassVar[int]
    IOT_4G_ON_FIELD_NUMBER: _ClassVar[int]
    IOT_4G_STA_FIELD_NUMBER: _ClassVar[int]
    IOT_4G_PDP_FIELD_NUMBER: _ClassVar[int]
    IOT_4G_ERR_FIELD_NUMBER: _ClassVar[int]
    SYS_HEAT_STAT_FIELD_NUMBER: _ClassVar[int]
    PCS_AC_WARNING_CODE_FIELD_NUMBER: _ClassVar[int]
    PCS_RELAY_SELF_CHECK_STA_FIELD_NUMBER: _ClassVar[int]
    PCSRUNFSMSTATE_FIELD_NUMBER: _ClassVar[int]
    MPPT1_FAULT_CODE_FIELD_NUMBER: _ClassVar[int]
    MPPT2_FAULT_CODE_FIELD_NUMBER: _ClassVar[int]
    MPPT1_WARNING_CODE_FIELD_NUMBER: _ClassVar[int]
    MPPT2_WARNING_CODE_FIELD_NUMBER: _ClassVar[int]
    BP_LINE_OFF_FLAG_FIELD_NUMBER: _ClassVar[int]
    BP_RESTART_FLAG_FIELD_NUMBER: _ClassVar[int]
    BP_REVERSE_FLAG_FIELD_NUMBER: _ClassVar[int]
    BAT_RELAY_CLOSE_FAIL_FLAG_FIELD_NUMBER: _ClassVar[int]
    BAT_SOFT_RELAY_STATUS_FIELD_NUMBER: _ClassVar[int]
    BAT_REALY_STATUS_FIELD_NUMBER: _ClassVar[int]
    PCSRELAYSTATESHOW_FIELD_NUMBER: _ClassVar[int]
    EMS_WORK_STATE_FIELD_NUMBER: _ClassVar[int]
    AFCI_FAULT_CNT_CH1_FIELD_NUMBER: _ClassVar[int]
    AFCI_FAULT_VALUE_CH1_FIELD_NUMBER: _ClassVar[int]
    AFCI_FAULT_MAX_VALUE_CH1_FIELD_NUMBER: _ClassVar[int]
    AFCI_PROTECT_VALUE_CH1_FIELD_NUMBER: _ClassVar[int]
    AFCI_FAULT_FLAG_CH1_FIELD_NUMBER: _ClassVar[int]
    AFCI_FAULT_CNT_CH2_FIELD_NUMBER: _ClassVar[int]
    AFCI_FAULT_VALUE_CH2_FIELD_NUMBER: _ClassVar[int]
    AFCI_FAULT_MAX_VALUE_CH2_FIELD_NUMBER: _ClassVar[int]
    AFCI_PROTECT_VALUE_CH2_FIELD_NUMBER: _ClassVar[int]
    AFCI_FAULT_FLAG_CH2_FIELD_NUMBER: _ClassVar[int]
    AFCI_SELLF_TEST_RESULT_FIELD_NUMBER: _ClassVar[int]
    AFCI_SWITCH_FREQ_CH1_FIELD_NUMBER: _ClassVar[int]
    AFCI_SWITCH_FREQ_CH2_FIELD_NUMBER: _ClassVar[int]
    SYS_CAL_STAT_FIELD_NUMBER: _ClassVar[int]
    ETH_WAN_STAT_FIELD_NUMBER: _ClassVar[int]
    WIFI_STA_STAT_FIELD_NUMBER: _ClassVar[int]
    VIRTUAL_HARD_EDITION_FIELD_NUMBER: _ClassVar[int]
    USER_ROLE_FIELD_NUMBER: _ClassVar[int]
    CHG_DSG_MODE_FIELD_NUMBER: _ClassVar[int]
    CHG_DSG_PWR_FIELD_NUMBER: _ClassVar[int]
    PARALLEL_ALLOW_STATE_FIELD_NUMBER: _ClassVar[int]
    PARALLEL_TYPE_SET_FIELD_NUMBER: _ClassVar[int]
    PARALLEL_TYPE_FIELD_NUMBER: _ClassVar[int]
    AFCI_IS_EXIST_FIELD_NUMBER: _ClassVar[int]
    AFCI_EN_FIELD_NUMBER: _ClassVar[int]
    AFCI_EN_SET_FIELD_NUMBER: _ClassVar[int]
    PARALLEL_TYPE_CUR_FIELD_NUMBER: _ClassVar[int]
    BATTERY_LIMIT_REASON_FIELD_NUMBER: _ClassVar[int]
    IEEE20305_CONNECT_STAT_FIELD_NUMBER: _ClassVar[int]
    IEEE20305_CTRL_STAT_FIELD_NUMBER: _ClassVar[int]
    IEEE20305_LAST_CTRL_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    GRID_IS_ENERGIZED_FIELD_NUMBER: _ClassVar[int]
    sys_work_sta: int
    sys_grid_sta: int
    ems_work_mode: int
    ems_backup_event: int
    bp_chg_dsg_sta: int
    ems_keep_soc: int
    bpSoc: int
    emsSysSelfCheckStat: int
    bp_online_sum: int
    sys_on_off_machine_stat: int
    sys_bat_chg_up_limit: int
    sys_bat_dsg_down_limit: int
    bpTotalChgEnergy: int
    bpTotalDsgEnergy: int
    sys_bat_backup_ratio: int
    emsFeedMode: int
    emsFeedRatio: int
    emsFeedPwr: int
    sys_meter_cfg: int
    sys_type_cfg: int
    pcs_run_sta: int
    pcs_ac_err_code: int
    pcs_dc_err_code: int
    pcsOverVol1: float
    pcsOverVol2: float
    pcsOverVol3: float
    pcs_over_vol_time1: int
    pcs_over_vol_time2: int
    pcs_over_vol_time3: int
    pcsLowVol1: float
    pcsLowVol2: float
    pcsLowVol3: float
    pcsLowVolTime1: int
    pcsLowVolTime2: int
    pcsLowVolTime3: int
    pcs_over_vol_recover: float
    pcs_low_vol_recover: float
    pcs_vol_recover_time: int
    pcs_10min_over_vol: float
    pcs_10min_over_vol_time: int
    pcsOverFreq1: float
    pcsOverFreq2: float
    pcs_over_freq_time1: int
    pcs_over_freq_time2: int
    pcsLowFreq1: float
    pcsLowFreq2: float
    pcs_low_freq_time1: int
    pcs_low_freq_time2: int
    pcsOverFreqRecover: float
    pcs_low_freq_recover: float
    pcs_freq_recover_time: int
    pcs_hvrt_lvrt_switch: int
    pcs_island_detect_switch: int
    pcs_anti_back_flow_switch: int
    pcsPfValue: float
    pcs_safety_country_code_selection: int
    pcs_reconnect_grid_detect_switch: int
    pcsOnGridWaitTime: int
    rate_ctrl_swtich: int
    sys_rate_ctrl_time: int
    ems_ctrl_led_type: int
    ems_ctrl_led_bright: int
    sys_mul_peak_switch: int
    sysMulPeakTime: int
    ems_sg_ready_en: int
    ems_sg_run_stat: int
    ems_stop_all: int
    iot_4g_on: int
    iot_4g_sta: int
    iot_4g_pdp: int
    iot_4g_err: int
    sys_heat_stat: int
    pcs_ac_warning_code: int
    pcs_relay_self_check_sta: int
    pcsRunFsmState: int
    mppt1_fault_code: int
    mppt2_fault_code: int
    mppt1_warning_code: int
    mppt2_warning_code: int
    bp_line_off_flag: int
    bp_restart_flag: int
    bp_reverse_flag: int
    bat_relay_close_fail_flag: int
    bat_soft_relay_status: int
    bat_realy_status: int
    pcsRelayStateShow: int
    ems_work_state: int
    afci_fault_cnt_ch1: int
    afci_fault_value_ch1: float
    afci_fault_max_value_ch1: float
    afci_protect_value_ch1: float
    afci_fault_flag_ch1: int
    afci_fault_cnt_ch2: int
    afci_fault_value_ch2: float
    afci_fault_max_value_ch2: float
    afci_protect_value_ch2: float
    afci_fault_flag_ch2: int
    afci_sellf_test_result: int
    afci_switch_freq_ch1: int
    afci_switch_freq_ch2: int
    sys_cal_stat: int
    eth_wan_stat: int
    wifi_sta_stat: int
    virtual_hard_edition: int
    user_role: int
    chg_dsg_mode: int
    chg_dsg_pwr: float
    parallel_allow_state: int
    parallel_type_set: int
    parallel_type: int
    afci_is_exist: int
    afci_en: int
    afci_en_set: int
    parallel_type_cur: int
    battery_limit_reason: int
    ieee20305_connect_stat: int
    ieee20305_ctrl_stat: int
    ieee20305_last_ctrl_timestamp: int
    grid_is_energized: bool
    def __init__(self, sys_work_sta: _Optional[int] = ..., sys_grid_sta: _Optional[int] = ..., ems_work_mode: _Optional[int] = ..., ems_backup_event: _Optional[int] = ..., bp_chg_dsg_sta: _Optional[int] = ..., ems_keep_soc: _Optional[int] = ..., bpSoc: _Optional[int] = ..., emsSysSelfCheckStat: _Optional[int] = ..., bp_online_sum: _Optional[int] = ..., sys_on_off_machine_stat: _Optional[int] = ..., sys_bat_chg_up_limit: _Optional[int] = ..., sys_bat_dsg_down_limit: _Optional[int] = ..., bpTotalChgEnergy: _Optional[int] = ..., bpTotalDsgEnergy: _Optional[int] = ..., sys_bat_backup_ratio: _Optional[int] = ..., emsFeedMode: _Optional[int] = ..., emsFeedRatio: _Optional[int] = ..., emsFeedPwr: _Optional[int] = ..., sys_meter_cfg: _Optional[int] = ..., sys_type_cfg: _Optional[int] = ..., pcs_run_sta: _Optional[int] = ..., pcs_ac_err_code: _Optional[int] = ..., pcs_dc_err_code: _Optional[int] = ..., pcsOverVol1: _Optional[float] = ..., pcsOverVol2: _Optional[float] = ..., pcsOverVol3: _Optional[float] = ..., pcs_over_vol_time1: _Optional[int] = ..., pcs_over_vol_time2: _Optional[int] = ..., pcs_over_vol_time3: _Optional[int] = ..., pcsLowVol1: _Optional[float] = ..., pcsLowVol2: _Optional[float] = ..., pcsLowVol3: _Optional[float] = ..., pcsLowVolTime1: _Optional[int] = ..., pcsLowVolTime2: _Optional[int] = ..., pcsLowVolTime3: _Optional[int] = ..., pcs_over_vol_recover: _Optional[float] = ..., pcs_low_vol_recover: _Optional[float] = ..., pcs_vol_recover_time: _Optional[int] = ..., pcs_10min_over_vol: _Optional[float] = ..., pcs_10min_over_vol_time: _Optional[int] = ..., pcsOverFreq1: _Optional[float] = ..., pcsOverFreq2: _Optional[float] = ..., pcs_over_freq_time1: _Optional[int] = ..., pcs_over_freq_time2: _Optional[int] = ..., pcsLowFreq1: _Optional[float] = ..., pcsLowFreq2: _Optional[float] = ..., pcs_low_freq_time1: _Optional[int] = ..., pcs_low_freq_time2: _Optional[int] = ..., pcsOverFreqRecover: _Optional[float] = ..., pcs_low_freq_recover: _Optional[float] = ..., pcs_freq_recover_time: _Optional[int] = ..., pcs_hvrt_lvrt_switch: _Optional[int] = ..., pcs_island_detect_switch: _Optional[int] = ..., pcs_anti_back_flow_switch: _Optional[int] = ..., pcsPfValue: _Optional[float] = ..., pcs_safety_country_code_selection: _Optional[int] = ..., pcs_reconnect_grid_detect_switch: _Optional[int] = ..., pcsOnGridWaitTime: _Optional[int] = ..., rate_ctrl_swtich: _Optional[int] = ..., sys_rate_ctrl_time: _Optional[int] = ..., ems_ctrl_led_type: _Optional[int] = ..., ems_ctrl_led_bright: _Optional[int] = ..., sys_mul_peak_switch: _Optional[int] = ..., sysMulPeakTime: _Optional[int] = ..., ems_sg_ready_en: _Optional[int] = ..., ems_sg_run_stat: _Optional[int] = ..., ems_stop_all: _Optional[int] = ..., iot_4g_on: _Optional[int] = ..., iot_4g_sta: _Optional[int] = ..., iot_4g_pdp: _Optional[int] = ..., iot_4g_err: _Optional[int] = ..., sys_heat_stat: _Optional[int] = ..., pcs_ac_warning_code: _Optional[int] = ..., pcs_relay_self_check_sta: _Optional[int] = ..., pcsRunFsmState: _Optional[int] = ..., mppt1_fault_code: _Optional[int] = ..., mppt2_fault_code: _Optional[int] = ..., mppt1_warning_code: _Optional[int] = ..., mppt2_warning_code: _Optional[int] = ..., bp_line_off_flag: _Optional[int] = ..., bp_restart_flag: _Optional[int] = ..., bp_reverse_flag: _Optional[int] = ..., bat_relay_close_fail_flag: _Optional[int] = ..., bat_soft_relay_status: _Optional[int] = ..., bat_realy_status: _Optional[int] = ..., pcsRelayStateShow: _Optional[int] = ..., ems_work_state: _Optional[int] = ..., afci_fault_cnt_ch1: _Optional[int] = ..., afci_fault_value_ch1: _Optional[float] = ..., afci_fault_max_value_ch1: _Optional[float] = ..., afci_protect_value_ch1: _Optional[float] = ..., afci_fault_flag_ch1: _Optional[int] = ..., afci_fault_cnt_ch2: _Optional[int] = ..., afci_fault_value_ch2: _Optional[float] = ..., afci_fault_max_value_ch2: _Optional[float] = ..., afci_protect_value_ch2: _Optional[float] = ..., afci_fault_flag_ch2: _Optional[int] = ..., afci_sellf_test_result: _Optional[int] = ..., afci_switch_freq_ch1: _Optional[int] = ..., afci_switch_freq_ch2: _Optional[int] = ..., sys_cal_stat: _Optional[int] = ..., eth_wan_stat: _Optional[int] = ..., wifi_sta_stat: _Optional[int] = ..., virtual_hard_edition: _Optional[int] = ..., user_role: _Optional[int] = ..., chg_dsg_mode: _Optional[int] = ..., chg_dsg_pwr: _Optional[float] = ..., parallel_allow_state: _Optional[int] = ..., parallel_type_set: _Optional[int] = ..., parallel_type: _Optional[int] = ..., afci_is_exist: _Optional[int] = ..., afci_en: _Optional[int] = ..., afci_en_set: _Optional[int] = ..., parallel_type_cur: _Optional[int] = ..., battery_limit_reason: _Optional[int] = ..., ieee20305_connect_stat: _Optional[int] = ..., ieee20305_ctrl_stat: _Optional[int] = ..., ieee20305_last_ctrl_timestamp: _Optional[int] = ..., grid_is_energized: _Optional[bool] = ...) -> None: ...

class EmsPeakShavingReport(_message.Message):
    __slots__ = ("peak_shaving_status", "peak_shaving_max_power", "peak_shaving_energy", "peak_shaving_soc", "peak_shaving_times", "peak_shaving_control_energy")
    PEAK_SHAVING_STATUS_FIELD_NUMBER: _ClassVar[int]
    PEAK_SHAVING_MAX_POWER_FIELD_NUMBER: _ClassVar[int]
    PEAK_SHAVING_ENERGY_FIELD_NUMBER: _ClassVar[int]
    PEAK_SHAVING_SOC_FIELD_NUMBER: _ClassVar[int]
    PEAK_SHAVING_TIMES_FIELD_NUMBER: _ClassVar[int]
    PEAK_SHAVING_CONTROL_ENERGY_FIELD_NUMBER: _ClassVar[int]
    peak_shaving_status: int
    peak_shaving_max_power: float
    peak_shaving_energy: float
    peak_shaving_soc: float
    peak_shaving_times: float
    peak_shaving_control_energy: float
    def __init__(self, peak_shaving_status: _Optional[int] = ..., peak_shaving_max_power: _Optional[float] = ..., peak_shaving_energy: _Optional[float] = ..., peak_shaving_soc: _Optional[float] = ..., peak_shaving_times: _Optional[float] = ..., peak_shaving_control_energy: _Optional[float] = ...) -> None: ...

class JTS1_EMS_PARAM_CHANGE_REPORT(_message.Message):
    __slots__ = ("smart_ctrl", "energy_efficient_enable", "sys_zone", "sys_time_tab", "bp_burst", "lower_power_stat", "breaker_capacity_max", "breaker_enable_state", "dev_soc", "sys_switch_bit", "tou_offset", "ems_peak_shaving_report", "kraken_register_status", "kraken_switch")
    SMART_CTRL_FIELD_NUMBER: _ClassVar[int]
    ENERGY_EFFICIENT_ENABLE_FIELD_NUMBER: _ClassVar[int]
    SYS_ZONE_FIELD_NUMBER: _ClassVar[int]
    SYS_TIME_TAB_FIELD_NUMBER: _ClassVar[int]
    BP_BURST_FIELD_NUMBER: _ClassVar[int]
    LOWER_POWER_STAT_FIELD_NUMBER: _ClassVar[int]
    BREAKER_CAPACITY_MAX_FIELD_NUMBER: _ClassVar[int]
    BREAKER_ENABLE_STATE_FIELD_NUMBER: _ClassVar[int]
    DEV_SOC_FIELD_NUMBER: _ClassVar[int]
    SYS_SWITCH_BIT_FIELD_NUMBER: _ClassVar[int]
    TOU_OFFSET_FIELD_NUMBER: _ClassVar[int]
    EMS_PEAK_SHAVING_REPORT_FIELD_NUMBER: _ClassVar[int]
    KRAKEN_REGISTER_STATUS_FIELD_NUMBER: _ClassVar[int]
    KRAKEN_SWITCH_FIELD_NUMBER: _ClassVar[int]
    smart_ctrl: bool
    energy_efficient_enable: bool
    sys_zone: int
    sys_time_tab: int
    bp_burst: bool
    lower_power_stat: bool
    breaker_capacity_max: int
    breaker_enable_state: bool
    dev_soc: int
    sys_switch_bit: int
    tou_offset: float
    ems_peak_shaving_report: EmsPeakShavingReport
    kraken_register_status: int
    kraken_switch: int
    def __init__(self, smart_ctrl: _Optional[bool] = ..., energy_efficient_enable: _Optional[bool] = ..., sys_zone: _Optional[int] = ..., sys_time_tab: _Optional[int] = ..., bp_burst: _Optional[bool] = ..., lower_power_stat: _Optional[bool] = ..., breaker_capacity_max: _Optional[int] = ..., breaker_enable_state: _Optional[bool] = ..., dev_soc: _Optional[int] = ..., sys_switch_bit: _Optional[int] = ..., tou_offset: _Optional[float] = ..., ems_peak_shaving_report: _Optional[_Union[EmsPeakShavingReport, _Mapping]] = ..., kraken_register_status: _Optional[int] = ..., kraken_switch: _Optional[int] = ...) -> None: ...

class ErrorCode(_message.Message):
    __slots__ = ("module_sn", "err_code")
    MODULE_SN_FIELD_NUMBER: _ClassVar[int]
    ERR_CODE_FIELD_NUMBER: _ClassVar[int]
    module_sn: str
    err_code: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, module_sn: _Optional[str] = ..., err_code: _Optional[_Iterable[int]] = ...) -> None: ...

class ErrorChangeReport(_message.Message):
    __slots__ = ("ems_err_code", "pcs_err_code", "bp_err_code")
    EMS_ERR_CODE_FIELD_NUMBER: _ClassVar[int]
    PCS_ERR_CODE_FIELD_NUMBER: _ClassVar[int]
    BP_ERR_CODE_FIELD_NUMBER: _ClassVar[int]
    ems_err_code: ErrorCode
    pcs_err_code: ErrorCode
    bp_err_code: _containers.RepeatedCompositeFieldContainer[ErrorCode]
    def __init__(self, ems_err_code: _Optional[_Union[ErrorCode, _Mapping]] = ..., pcs_err_code: _Optional[_Union[ErrorCode, _Mapping]] = ..., bp_err_code: _Optional[_Iterable[_Union[ErrorCode, _Mapping]]] = ...) -> None: ...

class EmsPVInvEnergyStreamReport(_message.Message):
    __slots__ = ("pv_inv_pwr",)
    PV_INV_PWR_FIELD_NUMBER: _ClassVar[int]
    pv_inv_pwr: float
    def __init__(self, pv_inv_pwr: _Optional[float] = ...) -> None: ...

class ParallelEnergyStream(_message.Message):
    __slots__ = ("sys_load_pwr", "sys_grid_pwr", "mppt_pwr", "bp_pwr", "bp_soc", "dev_sn", "power_pv1", "power_pv2")
    SYS_LOAD_PWR_FIELD_NUMBER: _ClassVar[int]
    SYS_GRID_PWR_FIELD_NUMBER: _ClassVar[int]
    MPPT_PWR_FIELD_NUMBER: _ClassVar[int]
    BP_PWR_FIELD_NUMBER: _ClassVar[int]
    BP_SOC_FIELD_NUMBER: _ClassVar[int]
    DEV_SN_FIELD_NUMBER: _ClassVar[int]
    POWER_PV1_FIELD_NUMBER: _ClassVar[int]
    POWER_PV2_FIELD_NUMBER: _ClassVar[int]
    sys_load_pwr: float
    sys_grid_pwr: float
    mppt_pwr: float
    bp_pwr: float
    bp_soc: int
    dev_sn: str
    power_pv1: float
    power_pv2: float
    def __init__(self, sys_load_pwr: _Optional[float] = ..., sys_grid_pwr: _Optional[float] = ..., mppt_pwr: _Optional[float] = ..., bp_pwr: _Optional[float] = ..., bp_soc: _Optional[int] = ..., dev_sn: _Optional[str] = ..., power_pv1: _Optional[float] = ..., power_pv2: _Optional[float] = ...) -> None: ...

class ParallelEnergyStreamReport(_message.Message):
    __slots__ = ("para_energy_stream",)
    PARA_ENERGY_STREAM_FIELD_NUMBER: _ClassVar[int]
    para_energy_stream: _containers.RepeatedCompositeFieldContainer[ParallelEnergyStream]
    def __init__(self, para_energy_stream: _Optional[_Iterable[_Union[ParallelEnergyStream, _Mapping]]] = ...) -> None: ...

class ModuleInfo(_message.Message):
    __slots__ = ("product_type", "product_detail", "module_sn", "cpuid", "running_sta", "addr", "d_addr", "app_ver", "loader_ver")
    PRODUCT_TYPE_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_DETAIL_FIELD_NUMBER: _ClassVar[int]
    MODULE_SN_FIELD_NUMBER: _ClassVar[int]
    CPUID_FIELD_NUMBER: _ClassVar[int]
    RUNNING_STA_FIELD_NUMBER: _ClassVar[int]
    ADDR_FIELD_NUMBER: _ClassVar[int]
    D_ADDR_FIELD_NUMBER: _ClassVar[int]
    APP_VER_FIELD_NUMBER: _ClassVar[int]
    LOADER_VER_FIELD_NUMBER: _ClassVar[int]
    product_type: int
    product_detail: int
    module_sn: str
    cpuid: str
    running_sta: int
    addr: int
    d_addr: int
    app_ver: int
    loader_ver: int
    def __init__(self, product_type: _Optional[int] = ..., product_detail: _Optional[int] = ..., module_sn: _Optional[str] = ..., cpuid: _Optional[str] = ..., running_sta: _Optional[int] = ..., addr: _Optional[int] = ..., d_addr: _Optional[int] = ..., app_ver: _Optional[int] = ..., loader_ver: _Optional[int] = ...) -> None: ...

class ModuleClusterInfo(_message.Message):
    __slots__ = ("module", "total_page", "page")
    MODULE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    module: _containers.RepeatedCompositeFieldContainer[ModuleInfo]
    total_page: int
    page: int
    def __init__(self, module: _Optional[_Iterable[_Union[ModuleInfo, _Mapping]]] = ..., total_page: _Optional[int] = ..., page: _Optional[int] = ...) -> None: ...

class EVChargingParamReport(_message.Message):
    __slots__ = ("ev_sn", "expect_charging_energy", "stop_charging_soc", "online_bits", "ev_plug_and_play", "charging_status", "error_code", "ev_pwr", "ev_charging_energy", "work_mode", "order_time", "order_state", "default_vehicle_id", "charge_vehicle_id", "order_start_timestamp", "order_end_timestamp", "use_grid_first", "switch_bits")
    EV_SN_FIELD_NUMBER: _ClassVar[int]
    EXPECT_CHARGING_ENERGY_FIELD_NUMBER: _ClassVar[int]
    STOP_CHARGING_SOC_FIELD_NUMBER: _ClassVar[int]
    ONLINE_BITS_FIELD_NUMBER: _ClassVar[int]
    EV_PLUG_AND_PLAY_FIELD_NUMBER: _ClassVar[int]
    CHARGING_STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    EV_PWR_FIELD_NUMBER: _ClassVar[int]
    EV_CHARGING_ENERGY_FIELD_NUMBER: _ClassVar[int]
    WORK_MODE_FIELD_NUMBER: _ClassVar[int]
    ORDER_TIME_FIELD_NUMBER: _ClassVar[int]
    ORDER_STATE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VEHICLE_ID_FIELD_NUMBER: _ClassVar[int]
    CHARGE_VEHICLE_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_START_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    ORDER_END_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    USE_GRID_FIRST_FIELD_NUMBER: _ClassVar[int]
    SWITCH_BITS_FIELD_NUMBER: _ClassVar[int]
    ev_sn: str
    expect_charging_energy: float
    stop_charging_soc: int
    online_bits: int
    ev_plug_and_play: int
    charging_status: int
    error_code: bytes
    ev_pwr: float
    ev_charging_energy: float
    work_mode: int
    order_time: int
    order_state: int
    default_vehicle_id: str
    charge_vehicle_id: str
    order_start_timestamp: int
    order_end_timestamp: int
    use_grid_first: int
    switch_bits: int
    def __init__(self, ev_sn: _Optional[str] = ..., expect_charging_energy: _Optional[float] = ..., stop_charging_soc: _Optional[int] = ..., online_bits: _Optional[int] = ..., ev_plug_and_play: _Optional[int] = ..., charging_status: _Optional[int] = ..., error_code: _Optional[bytes] = ..., ev_pwr: _Optional[float] = ..., ev_charging_energy: _Optional[float] = ..., work_mode: _Optional[int] = ..., order_time: _Optional[int] = ..., order_state: _Optional[int] = ..., default_vehicle_id: _Optional[str] = ..., charge_vehicle_id: _Optional[str] = ..., order_start_timestamp: _Optional[int] = ..., order_end_timestamp: _Optional[int] = ..., use_grid_first: _Optional[int] = ..., switch_bits: _Optional[int] = ...) -> None: ...

class HeatingRodEnergyStream(_message.Message):
    __slots__ = ("hr_sn", "hr_pwr", "temp", "from_pv", "from_bat", "from_grid")
    HR_SN_FIELD_NUMBER: _ClassVar[int]
    HR_PWR_FIELD_NUMBER: _ClassVar[int]
    TEMP_FIELD_NUMBER: _ClassVar[int]
    FROM_PV_FIELD_NUMBER: _ClassVar[int]
    FROM_BAT_FIELD_NUMBER: _ClassVar[int]
    FROM_GRID_FIELD_NUMBER: _ClassVar[int]
    hr_sn: str
    hr_pwr: float
    temp: float
    from_pv: float
    from_bat: float
    from_grid: float
    def __init__(self, hr_sn: _Optional[str] = ..., hr_pwr: _Optional[float] = ..., temp: _Optional[float] = ..., from_pv: _Optional[float] = ..., from_bat: _Optional[float] = ..., from_grid: _Optional[float] = ...) -> None: ...

class HeatingRodEnergyStreamShow(_message.Message):
    __slots__ = ("hr_energy_stream",)
    HR_ENERGY_STREAM_FIELD_NUMBER: _ClassVar[int]
    hr_energy_stream: _containers.RepeatedCompositeFieldContainer[HeatingRodEnergyStream]
    def __init__(self, hr_energy_stream: _Optional[_Iterable[_Union[HeatingRodEnergyStream, _Mapping]]] = ...) -> None: ...

class bpStaReport(_message.Message):
    __slots__ = ("bpPwr", "bpSoc", "bpSoh", "bp_sop", "bpTemp", "bpMaxCellVol", "bpMinCellVol", "bpRunSta", "bpVol", "bpAmp", "bpBusVol", "bpErrCode", "bpCellVol", "bpDsrc", "bpSn", "bpCycles", "bpBalanceState", "bpHvMosTemp", "bpLvMosTemp", "bpPtcTemp", "bpHtsTemp", "bpBusNegTemp", "bpBusPosTemp", "bpEnvTemp", "bpAccuChgCap", "bpAccuDsgCap", "bpDesignCap", "bpFullCap", "bpMaxCellTemp", "bpMinCellTemp", "bpMaxMosTemp", "bpMinMosTemp", "bpBmsFault", "bpEcloundSoc", "bpHeartbeatVer", "bpTimestamp", "bpRealSoc", "bpRealSoh", "bpGlobalProtect", "bpDownLimitSoc", "bpUpLimitSoc", "bpActiveCalReqStat", "bpActiveCalRunStat", "moduleProductInfo", "moduleProgramSta", "moduleAplSwVer", "moduleLoaderSwVer", "bmsRunSta", "bmsChgDsgSta", "dabModSta", "bpChgSop", "bpDsgSop", "bpRemainWatth", "bpTargetSoc", "bpDiffSoc", "bpMaxSoc", "bpMinSoc", "bpLimitSoc", "bpCalendarSoh", "bpCycleSoh", "bpAcRechargeFlag", "bpPtcHeatFlag", "bpPtcExitEvent", "bpAccuChgEnergy", "bpAccuDsgEnergy", "bpPtcTemp2", "bpSysState")
    BPPWR_FIELD_NUMBER: _ClassVar[int]
    BPSOC_FIELD_NUMBER: _ClassVar[int]
    BPSOH_FIELD_NUMBER: _ClassVar[int]
    BP_SOP_FIELD_NUMBER: _ClassVar[int]
    BPTEMP_FIELD_NUMBER: _ClassVar[int]
    BPMAXCELLVOL_FIELD_NUMBER: _ClassVar[int]
    BPMINCELLVOL_FIELD_NUMBER: _ClassVar[int]
    BPRUNSTA_FIELD_NUMBER: _ClassVar[int]
    BPVOL_FIELD_NUMBER: _ClassVar[int]
    BPAMP_FIELD_NUMBER: _ClassVar[int]
    BPBUSVOL_FIELD_NUMBER: _ClassVar[int]
    BPERRCODE_FIELD_NUMBER: _ClassVar[int]
    BPCELLVOL_FIELD_NUMBER: _ClassVar[int]
    BPDSRC_FIELD_NUMBER: _ClassVar[int]
    BPSN_FIELD_NUMBER: _ClassVar[int]
    BPCYCLES_FIELD_NUMBER: _ClassVar[int]
    BPBALANCESTATE_FIELD_NUMBER: _ClassVar[int]
    BPHVMOSTEMP_FIELD_NUMBER: _ClassVar[int]
    BPLVMOSTEMP_FIELD_NUMBER: _ClassVar[int]
    BPPTCTEMP_FIELD_NUMBER: _ClassVar[int]
    BPHTSTEMP_FIELD_NUMBER: _ClassVar[int]
    BPBUSNEGTEMP_FIELD_NUMBER: _ClassVar[int]
    BPBUSPOSTEMP_FIELD_NUMBER: _ClassVar[int]
    BPENVTEMP_FIELD_NUMBER: _ClassVar[int]
    BPACCUCHGCAP_FIELD_NUMBER: _ClassVar[int]
    BPACCUDSGCAP_FIELD_NUMBER: _ClassVar[int]
    BPDESIGNCAP_FIELD_NUMBER: _ClassVar[int]
    BPFULLCAP_FIELD_NUMBER: _ClassVar[int]
    BPMAXCELLTEMP_FIELD_NUMBER: _ClassVar[int]
    BPMINCELLTEMP_FIELD_NUMBER: _ClassVar[int]
    BPMAXMOSTEMP_FIELD_NUMBER: _ClassVar[int]
    BPMINMOSTEMP_FIELD_NUMBER: _ClassVar[int]
    BPBMSFAULT_FIELD_NUMBER: _ClassVar[int]
    BPECLOUNDSOC_FIELD_NUMBER: _ClassVar[int]
    BPHEARTBEATVER_FIELD_NUMBER: _ClassVar[int]
    BPTIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    BPREALSOC_FIELD_NUMBER: _ClassVar[int]
    BPREALSOH_FIELD_NUMBER: _ClassVar[int]
    BPGLOBALPROTECT_FIELD_NUMBER: _ClassVar[int]
    BPDOWNLIMITSOC_FIELD_NUMBER: _ClassVar[int]
    BPUPLIMITSOC_FIELD_NUMBER: _ClassVar[int]
    BPACTIVECALREQSTAT_FIELD_NUMBER: _ClassVar[int]
    BPACTIVECALRUNSTAT_FIELD_NUMBER: _ClassVar[int]
    MODULEPRODUCTINFO_FIELD_NUMBER: _ClassVar[int]
    MODULEPROGRAMSTA_FIELD_NUMBER: _ClassVar[int]
    MODULEAPLSWVER_FIELD_NUMBER: _ClassVar[int]
    MODULELOADERSWVER_FIELD_NUMBER: _ClassVar[int]
    BMSRUNSTA_FIELD_NUMBER: _ClassVar[int]
    BMSCHGDSGSTA_FIELD_NUMBER: _ClassVar[int]
    DABMODSTA_FIELD_NUMBER: _ClassVar[int]
    BPCHGSOP_FIELD_NUMBER: _ClassVar[int]
    BPDSGSOP_FIELD_NUMBER: _ClassVar[int]
    BPREMAINWATTH_FIELD_NUMBER: _ClassVar[int]
    BPTARGETSOC_FIELD_NUMBER: _ClassVar[int]
    BPDIFFSOC_FIELD_NUMBER: _ClassVar[int]
    BPMAXSOC_FIELD_NUMBER: _ClassVar[int]
    BPMINSOC_FIELD_NUMBER: _ClassVar[int]
    BPLIMITSOC_FIELD_NUMBER: _ClassVar[int]
    BPCALENDARSOH_FIELD_NUMBER: _ClassVar[int]
    BPCYCLESOH_FIELD_NUMBER: _ClassVar[int]
    BPACRECHARGEFLAG_FIELD_NUMBER: _ClassVar[int]
    BPPTCHEATFLAG_FIELD_NUMBER: _ClassVar[int]
    BPPTCEXITEVENT_FIELD_NUMBER: _ClassVar[int]
    BPACCUCHGENERGY_FIELD_NUMBER: _ClassVar[int]
    BPACCUDSGENERGY_FIELD_NUMBER: _ClassVar[int]
    BPPTCTEMP2_FIELD_NUMBER: _ClassVar[int]
    BPSYSSTATE_FIELD_NUMBER: _ClassVar[int]
    bpPwr: float
    bpSoc: int
    bpSoh: int
    bp_sop: int
    bpTemp: _containers.RepeatedScalarFieldContainer[float]
    bpMaxCellVol: float
    bpMinCellVol: float
    bpRunSta: int
    bpVol: float
    bpAmp: float
    bpBusVol: float
    bpErrCode: int
    bpCellVol: _containers.RepeatedScalarFieldContainer[float]
    bpDsrc: int
    bpSn: bytes
    bpCycles: int
    bpBalanceState: int
    bpHvMosTemp: float
    bpLvMosTemp: float
    bpPtcTemp: float
    bpHtsTemp: float
    bpBusNegTemp: float
    bpBusPosTemp: float
    bpEnvTemp: float
    bpAccuChgCap: int
    bpAccuDsgCap: int
    bpDesignCap: int
    bpFullCap: int
    bpMaxCellTemp: float
    bpMinCellTemp: float
    bpMaxMosTemp: float
    bpMinMosTemp: float
    bpBmsFault: int
    bpEcloundSoc: int
    bpHeartbeatVer: int
    bpTimestamp: int
    bpRealSoc: float
    bpRealSoh: float
    bpGlobalProtect: int
    bpDownLimitSoc: int
    bpUpLimitSoc: int
    bpActiveCalReqStat: int
    bpActiveCalRunStat: int
    moduleProductInfo: int
    moduleProgramSta: int
    moduleAplSwVer: int
    moduleLoaderSwVer: int
    bmsRunSta: int
    bmsChgDsgSta: int
    dabModSta: int
    bpChgSop: int
    bpDsgSop: int
    bpRemainWatth: float
    bpTargetSoc: float
    bpDiffSoc: float
    bpMaxSoc: float
    bpMinSoc: float
    bpLimitSoc: float
    bpCalendarSoh: float
    bpCycleSoh: float
    bpAcRechargeFlag: int
    bpPtcHeatFlag: int
    bpPtcExitEvent: int
    bpAccuChgEnergy: int
    bpAccuDsgEnergy: int
    bpPtcTemp2: float
    bpSysState: int
    def __init__(self, bpPwr: _Optional[float] = ..., bpSoc: _Optional[int] = ..., bpSoh: _Optional[int] = ..., bp_sop: _Optional[int] = ..., bpTemp: _Optional[_Iterable[float]] = ..., bpMaxCellVol: _Optional[float] = ..., bpMinCellVol: _Optional[float] = ..., bpRunSta: _Optional[int] = ..., bpVol: _Optional[float] = ..., bpAmp: _Optional[float] = ..., bpBusVol: _Optional[float] = ..., bpErrCode: _Optional[int] = ..., bpCellVol: _Optional[_Iterable[float]] = ..., bpDsrc: _Optional[int] = ..., bpSn: _Optional[bytes] = ..., bpCycles: _Optional[int] = ..., bpBalanceState: _Optional[int] = ..., bpHvMosTemp: _Optional[float] = ..., bpLvMosTemp: _Optional[float] = ..., bpPtcTemp: _Optional[float] = ..., bpHtsTemp: _Optional[float] = ..., bpBusNegTemp: _Optional[float] = ..., bpBusPosTemp: _Optional[float] = ..., bpEnvTemp: _Optional[float] = ..., bpAccuChgCap: _Optional[int] = ..., bpAccuDsgCap: _Optional[int] = ..., bpDesignCap: _Optional[int] = ..., bpFullCap: _Optional[int] = ..., bpMaxCellTemp: _Optional[float] = ..., bpMinCellTemp: _Optional[float] = ..., bpMaxMosTemp: _Optional[float] = ..., bpMinMosTemp: _Optional[float] = ..., bpBmsFault: _Optional[int] = ..., bpEcloundSoc: _Optional[int] = ..., bpHeartbeatVer: _Optional[int] = ..., bpTimestamp: _Optional[int] = ..., bpRealSoc: _Optional[float] = ..., bpRealSoh: _Optional[float] = ..., bpGlobalProtect: _Optional[int] = ..., bpDownLimitSoc: _Optional[int] = ..., bpUpLimitSoc: _Optional[int] = ..., bpActiveCalReqStat: _Optional[int] = ..., bpActiveCalRunStat: _Optional[int] = ..., moduleProductInfo: _Optional[int] = ..., moduleProgramSta: _Optional[int] = ..., moduleAplSwVer: _Optional[int] = ..., moduleLoaderSwVer: _Optional[int] = ..., bmsRunSta: _Optional[int] = ..., bmsChgDsgSta: _Optional[int] = ..., dabModSta: _Optional[int] = ..., bpChgSop: _Optional[int] = ..., bpDsgSop: _Optional[int] = ..., bpRemainWatth: _Optional[float] = ..., bpTargetSoc: _Optional[float] = ..., bpDiffSoc: _Optional[float] = ..., bpMaxSoc: _Optional[float] = ..., bpMinSoc: _Optional[float] = ..., bpLimitSoc: _Optional[float] = ..., bpCalendarSoh: _Optional[float] = ..., bpCycleSoh: _Optional[float] = ..., bpAcRechargeFlag: _Optional[int] = ..., bpPtcHeatFlag: _Optional[int] = ..., bpPtcExitEvent: _Optional[int] = ..., bpAccuChgEnergy: _Optional[int] = ..., bpAccuDsgEnergy: _Optional[int] = ..., bpPtcTemp2: _Optional[float] = ..., bpSysState: _Optional[int] = ...) -> None: ...

class JTS1_BP_STA_REPORT(_message.Message):
    __slots__ = ("bpSta",)
    BPSTA_FIELD_NUMBER: _ClassVar[int]
    bpSta: _containers.RepeatedCompositeFieldContainer[bpStaReport]
    def __init__(self, bpSta: _Optional[_Iterable[_Union[bpStaReport, _Mapping]]] = ...) -> None: ...

class EnergyStreamItem(_message.Message):
    __slots__ = ("grid_pwr", "dcdc_pwr", "bp_pwr", "pv_pwr", "timestamp", "timezone", "bp_soc", "load_pwr", "bp_heating_power", "heating_power")
    GRID_PWR_FIELD_NUMBER: _ClassVar[int]
    DCDC_PWR_FIELD_NUMBER: _ClassVar[int]
    BP_PWR_FIELD_NUMBER: _ClassVar[int]
    PV_PWR_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    BP_SOC_FIELD_NUMBER: _ClassVar[int]
    LOAD_PWR_FIELD_NUMBER: _ClassVar[int]
    BP_HEATING_POWER_FIELD_NUMBER: _ClassVar[int]
    HEATING_POWER_FIELD_NUMBER: _ClassVar[int]
    grid_pwr: float
    dcdc_pwr: float
    bp_pwr: float
    pv_pwr: float
    timestamp: int
    timezone: int
    bp_soc: int
    load_pwr: float
    bp_heating_power: float
    heating_power: float
    def __init__(self, grid_pwr: _Optional[float] = ..., dcdc_pwr: _Optional[float] = ..., bp_pwr: _Optional[float] = ..., pv_pwr: _Optional[float] = ..., timestamp: _Optional[int] = ..., timezone: _Optional[int] = ..., bp_soc: _Optional[int] = ..., load_pwr: _Optional[float] = ..., bp_heating_power: _Optional[float] = ..., heating_power: _Optional[float] = ...) -> None: ...

class EMSHeartbeatReport(_message.Message):
    __slots__ = ("sys_work_sta", "bp_chg_dsg_sta", "bp_remain_watth", "bp_soc", "bp_dsg_time", "ems_err_code", "sys_err_code", "epo_switch_state", "sys_rate_ctrl_time", "current_netif", "meter_total_power", "meter_a_voltage", "meter_b_voltage", "meter_c_voltage", "meter_a_current", "meter_b_current", "meter_c_current", "meter_type", "meter_address", "ems_system_state", "battery_soc_upper_limit", "battery_soc_lower_limit", "working_mode", "grid_feed_power_minimum", "grid_feed_rate")
    SYS_WORK_STA_FIELD_NUMBER: _ClassVar[int]
    BP_CHG_DSG_STA_FIELD_NUMBER: _ClassVar[int]
    BP_REMAIN_WATTH_FIELD_NUMBER: _ClassVar[int]
    BP_SOC_FIELD_NUMBER: _ClassVar[int]
    BP_DSG_TIME_FIELD_NUMBER: _ClassVar[int]
    EMS_ERR_CODE_FIELD_NUMBER: _ClassVar[int]
    SYS_ERR_CODE_FIELD_NUMBER: _ClassVar[int]
    EPO_SWITCH_STATE_FIELD_NUMBER: _ClassVar[int]
    SYS_RATE_CTRL_TIME_FIELD_NUMBER: _ClassVar[int]
    CURRENT_NETIF_FIELD_NUMBER: _ClassVar[int]
    METER_TOTAL_POWER_FIELD_NUMBER: _ClassVar[int]
    METER_A_VOLTAGE_FIELD_NUMBER: _ClassVar[int]
    METER_B_VOLTAGE_FIELD_NUMBER: _ClassVar[int]
    METER_C_VOLTAGE_FIELD_NUMBER: _ClassVar[int]
    METER_A_CURRENT_FIELD_NUMBER: _ClassVar[int]
    METER_B_CURRENT_FIELD_NUMBER: _ClassVar[int]
    METER_C_CURRENT_FIELD_NUMBER: _ClassVar[int]
    METER_TYPE_FIELD_NUMBER: _ClassVar[int]
    METER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    EMS_SYSTEM_STATE_FIELD_NUMBER: _ClassVar[int]
    BATTERY_SOC_UPPER_LIMIT_FIELD_NUMBER: _ClassVar[int]
    BATTERY_SOC_LOWER_LIMIT_FIELD_NUMBER: _ClassVar[int]
    WORKING_MODE_FIELD_NUMBER: _ClassVar[int]
    GRID_FEED_POWER_MINIMUM_FIELD_NUMBER: _ClassVar[int]
    GRID_FEED_RATE_FIELD_NUMBER: _ClassVar[int]
    sys_work_sta: int
    bp_chg_dsg_sta: int
    bp_remain_watth: float
    bp_soc: float
    bp_dsg_time: int
    ems_err_code: int
    sys_err_code: int
    epo_switch_state: int
    sys_rate_ctrl_time: int
    current_netif: int
    meter_total_power: float
    meter_a_voltage: float
    meter_b_voltage: float
    meter_c_voltage: float
    meter_a_current: float
    meter_b_current: float
    meter_c_current: float
    meter_type: int
    meter_address: int
    ems_system_state: int
    battery_soc_upper_limit: int
    battery_soc_lower_limit: int
    working_mode: int
    grid_feed_power_minimum: float
    grid_feed_rate: float
    def __init__(self, sys_work_sta: _Optional[int] = ..., bp_chg_dsg_sta: _Optional[int] = ..., bp_remain_watth: _Optional[float] = ..., bp_soc: _Optional[float] = ..., bp_dsg_time: _Optional[int] = ..., ems_err_code: _Optional[int] = ..., sys_err_code: _Optional[int] = ..., epo_switch_state: _Optional[int] = ..., sys_rate_ctrl_time: _Optional[int] = ..., current_netif: _Optional[int] = ..., meter_total_power: _Optional[float] = ..., meter_a_voltage: _Optional[float] = ..., meter_b_voltage: _Optional[float] = ..., meter_c_voltage: _Optional[float] = ..., meter_a_current: _Optional[float] = ..., meter_b_current: _Optional[float] = ..., meter_c_current: _Optional[float] = ..., meter_type: _Optional[int] = ..., meter_address: _Optional[int] = ..., ems_system_state: _Optional[int] = ..., battery_soc_upper_limit: _Optional[int] = ..., battery_soc_lower_limit: _Optional[int] = ..., working_mode: _Optional[int] = ..., grid_feed_power_minimum: _Optional[float] = ..., grid_feed_rate: _Optional[float] = ...) -> None: ...

class BPReport(_message.Message):
    __slots__ = ("bp_pwr", "bp_soc", "bp_run_sta", "bp_vol", "bp_amp", "bp_mod_sta", "bp_remain_watth", "bp_chg_dsg_stat", "bp_bus_vol", "bp_bus_amp", "bp_down_limit_soc", "bp_up_limit_soc", "bp_err_code", "bp_sn")
    BP_PWR_FIELD_NUMBER: _ClassVar[int]
    BP_SOC_FIELD_NUMBER: _ClassVar[int]
    BP_RUN_STA_FIELD_NUMBER: _ClassVar[int]
    BP_VOL_FIELD_NUMBER: _ClassVar[int]
    BP_AMP_FIELD_NUMBER: _ClassVar[int]
    BP_MOD_STA_FIELD_NUMBER: _ClassVar[int]
    BP_REMAIN_WATTH_FIELD_NUMBER: _ClassVar[int]
    BP_CHG_DSG_STAT_FIELD_NUMBER: _ClassVar[int]
    BP_BUS_VOL_FIELD_NUMBER: _ClassVar[int]
    BP_BUS_AMP_FIELD_NUMBER: _ClassVar[int]
    BP_DOWN_LIMIT_SOC_FIELD_NUMBER: _ClassVar[int]
    BP_UP_LIMIT_SOC_FIELD_NUMBER: _ClassVar[int]
    BP_ERR_CODE_FIELD_NUMBER: _ClassVar[int]
    BP_SN_FIELD_NUMBER: _ClassVar[int]
    bp_pwr: float
    bp_soc: float
    bp_run_sta: int
    bp_vol: float
    bp_amp: float
    bp_mod_sta: int
    bp_remain_watth: float
    bp_chg_dsg_stat: int
    bp_bus_vol: float
    bp_bus_amp: float
    bp_down_limit_soc: float
    bp_up_limit_soc: float
    bp_err_code: int
    bp_sn: str
    def __init__(self, bp_pwr: _Optional[float] = ..., bp_soc: _Optional[float] = ..., bp_run_sta: _Optional[int] = ..., bp_vol: _Optional[float] = ..., bp_amp: _Optional[float] = ..., bp_mod_sta: _Optional[int] = ..., bp_remain_watth: _Optional[float] = ..., bp_chg_dsg_stat: _Optional[int] = ..., bp_bus_vol: _Optional[float] = ..., bp_bus_amp: _Optional[float] = ..., bp_down_limit_soc: _Optional[float] = ..., bp_up_limit_soc: _Optional[float] = ..., bp_err_code: _Optional[int] = ..., bp_sn: _Optional[str] = ...) -> None: ...

class BPChangeReport(_message.Message):
    __slots__ = ("bp_report",)
    BP_REPORT_FIELD_NUMBER: _ClassVar[int]
    bp_report: _containers.RepeatedCompositeFieldContainer[BPReport]
    def __init__(self, bp_report: _Optional[_Iterable[_Union[BPReport, _Mapping]]] = ...) -> None: ...

class EnergyStreamSwitch(_message.Message):
    __slots__ = ("ems_open_energy_stream",)
    EMS_OPEN_ENERGY_STREAM_FIELD_NUMBER: _ClassVar[int]
    ems_open_energy_stream: bool
    def __init__(self, ems_open_energy_stream: _Optional[bool] = ...) -> None: ...

class EnergyItem(_message.Message):
    __slots__ = ("timestamp", "watth_type", "watth")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    WATTH_TYPE_FIELD_NUMBER: _ClassVar[int]
    WATTH_FIELD_NUMBER: _ClassVar[int]
    timestamp: int
    watth_type: int
    watth: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, timestamp: _Optional[int] = ..., watth_type: _Optional[int] = ..., watth: _Optional[_Iterable[int]] = ...) -> None: ...

class EnergyTotalReport(_message.Message):
    __slots__ = ("watth_seq", "watth_item")
    WATTH_SEQ_FIELD_NUMBER: _ClassVar[int]
    WATTH_ITEM_FIELD_NUMBER: _ClassVar[int]
    watth_seq: int
    watth_item: _containers.RepeatedCompositeFieldContainer[EnergyItem]
    def __init__(self, watth_seq: _Optional[int] = ..., watth_item: _Optional[_Iterable[_Union[EnergyItem, _Mapping]]] = ...) -> None: ...

class Ocean2EnergyFlow(_message.Message):
    __slots__ = ("home_power", "grid_power", "solar_power", "battery_power", "battery_soc")
    HOME_POWER_FIELD_NUMBER: _ClassVar[int]
    GRID_POWER_FIELD_NUMBER: _ClassVar[int]
    SOLAR_POWER_FIELD_NUMBER: _ClassVar[int]
    BATTERY_POWER_FIELD_NUMBER: _ClassVar[int]
    BATTERY_SOC_FIELD_NUMBER: _ClassVar[int]
    home_power: float
    grid_power: float
    solar_power: float
    battery_power: float
    battery_soc: int
    def __init__(self, home_power: _Optional[float] = ..., grid_power: _Optional[float] = ..., solar_power: _Optional[float] = ..., battery_power: _Optional[float] = ..., battery_soc: _Optional[int] = ...) -> None: ...

class Ocean2InverterPhase(_message.Message):
    __slots__ = ("volt", "amp", "act_pwr", "react_pwr", "apparent_pwr", "phase")
    VOLT_FIELD_NUMBER: _ClassVar[int]
    AMP_FIELD_NUMBER: _ClassVar[int]
    ACT_PWR_FIELD_NUMBER: _ClassVar[int]
    REACT_PWR_FIELD_NUMBER: _ClassVar[int]
    APPARENT_PWR_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    volt: float
    amp: float
    act_pwr: float
    react_pwr: float
    apparent_pwr: float
    phase: int
    def __init__(self, volt: _Optional[float] = ..., amp: _Optional[float] = ..., act_pwr: _Optional[float] = ..., react_pwr: _Optional[float] = ..., apparent_pwr: _Optional[float] = ..., phase: _Optional[int] = ...) -> None: ...

class Ocean2InverterPhases(_message.Message):
    __slots__ = ("phase",)
    PHASE_FIELD_NUMBER: _ClassVar[int]
    phase: _containers.RepeatedCompositeFieldContainer[Ocean2InverterPhase]
    def __init__(self, phase: _Optional[_Iterable[_Union[Ocean2InverterPhase, _Mapping]]] = ...) -> None: ...

class Ocean2GridPhase(_message.Message):
    __slots__ = ("volt", "amp", "frequency", "act_pwr", "phase")
    VOLT_FIELD_NUMBER: _ClassVar[int]
    AMP_FIELD_NUMBER: _ClassVar[int]
    FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    ACT_PWR_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    volt: float
    amp: float
    frequency: float
    act_pwr: float
    phase: int
    def __init__(self, volt: _Optional[float] = ..., amp: _Optional[float] = ..., frequency: _Optional[float] = ..., act_pwr: _Optional[float] = ..., phase: _Optional[int] = ...) -> None: ...

class Ocean2GridPhases(_message.Message):
    __slots__ = ("phase",)
    PHASE_FIELD_NUMBER: _ClassVar[int]
    phase: _containers.RepeatedCompositeFieldContainer[Ocean2GridPhase]
    def __init__(self, phase: _Optional[_Iterable[_Union[Ocean2GridPhase, _Mapping]]] = ...) -> None: ...

class Ocean2PvString(_message.Message):
    __slots__ = ("number", "volt", "amp", "pwr")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    VOLT_FIELD_NUMBER: _ClassVar[int]
    AMP_FIELD_NUMBER: _ClassVar[int]
    PWR_FIELD_NUMBER: _ClassVar[int]
    number: int
    volt: float
    amp: float
    pwr: float
    def __init__(self, number: _Optional[int] = ..., volt: _Optional[float] = ..., amp: _Optional[float] = ..., pwr: _Optional[float] = ...) -> None: ...

class Ocean2PvStrings(_message.Message):
    __slots__ = ("pv",)
    PV_FIELD_NUMBER: _ClassVar[int]
    pv: _containers.RepeatedCompositeFieldContainer[Ocean2PvString]
    def __init__(self, pv: _Optional[_Iterable[_Union[Ocean2PvString, _Mapping]]] = ...) -> None: ...

class Ocean2Inverter(_message.Message):
    __slots__ = ("ac_power", "frequency", "phases", "grid_phases", "grid_meter_power", "pv_strings")
    AC_POWER_FIELD_NUMBER: _ClassVar[int]
    FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    PHASES_FIELD_NUMBER: _ClassVar[int]
    GRID_PHASES_FIELD_NUMBER: _ClassVar[int]
    GRID_METER_POWER_FIELD_NUMBER: _ClassVar[int]
    PV_STRINGS_FIELD_NUMBER: _ClassVar[int]
    ac_power: float
    frequency: float
    phases: Ocean2InverterPhases
    grid_phases: Ocean2GridPhases
    grid_meter_power: float
    pv_strings: Ocean2PvStrings
    def __init__(self, ac_power: _Optional[float] = ..., frequency: _Optional[float] = ..., phases: _Optional[_Union[Ocean2InverterPhases, _Mapping]] = ..., grid_phases: _Optional[_Union[Ocean2GridPhases, _Mapping]] = ..., grid_meter_power: _Optional[float] = ..., pv_strings: _Optional[_Union[Ocean2PvStrings, _Mapping]] = ...) -> None: ...

class Ocean2Summary(_message.Message):
    __slots__ = ("solar_power", "inverter_power", "inverter_power_signed", "feed_in_limit", "battery_remaining_energy", "soc", "battery_remaining_energy_copy", "battery_power_discharging")
    SOLAR_POWER_FIELD_NUMBER: _ClassVar[int]
    INVERTER_POWER_FIELD_NUMBER: _ClassVar[int]
    INVERTER_POWER_SIGNED_FIELD_NUMBER: _ClassVar[int]
    FEED_IN_LIMIT_FIELD_NUMBER: _ClassVar[int]
    BATTERY_REMAINING_ENERGY_FIELD_NUMBER: _ClassVar[int]
    SOC_FIELD_NUMBER: _ClassVar[int]
    BATTERY_REMAINING_ENERGY_COPY_FIELD_NUMBER: _ClassVar[int]
    BATTERY_POWER_DISCHARGING_FIELD_NUMBER: _ClassVar[int]
    solar_power: float
    inverter_power: float
    inverter_power_signed: float
    feed_in_limit: float
    battery_remaining_energy: int
    soc: int
    battery_remaining_energy_copy: int
    battery_power_discharging: float
    def __init__(self, solar_power: _Optional[float] = ..., inverter_power: _Optional[float] = ..., inverter_power_signed: _Optional[float] = ..., feed_in_limit: _Optional[float] = ..., battery_remaining_energy: _Optional[int] = ..., soc: _Optional[int] = ..., battery_remaining_energy_copy: _Optional[int] = ..., battery_power_discharging: _Optional[float] = ...) -> None: ...

class Ocean2Telemetry(_message.Message):
    __slots__ = ("inverter", "energy_flow_lagging", "summary", "energy_flow")
    INVERTER_FIELD_NUMBER: _ClassVar[int]
    ENERGY_FLOW_LAGGING_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    ENERGY_FLOW_FIELD_NUMBER: _ClassVar[int]
    inverter: Ocean2Inverter
    energy_flow_lagging: Ocean2EnergyFlow
    summary: Ocean2Summary
    energy_flow: Ocean2EnergyFlow
    def __init__(self, inverter: _Optional[_Union[Ocean2Inverter, _Mapping]] = ..., energy_flow_lagging: _Optional[_Union[Ocean2EnergyFlow, _Mapping]] = ..., summary: _Optional[_Union[Ocean2Summary, _Mapping]] = ..., energy_flow: _Optional[_Union[Ocean2EnergyFlow, _Mapping]] = ...) -> None: ...

class Ocean2ModuleReport(_message.Message):
    __slots__ = ("module",)
    MODULE_FIELD_NUMBER: _ClassVar[int]
    module: _containers.RepeatedCompositeFieldContainer[bpStaReport]
    def __init__(self, module: _Optional[_Iterable[_Union[bpStaReport, _Mapping]]] = ...) -> None: ...

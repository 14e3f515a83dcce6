"""The web interface's message catalogue, English and Simplified Chinese (zh-CN).

The language comes from the ``hengqi_lang`` cookie (set by the switch in the page header), else from the
browser's ``Accept-Language``, else English.

>>> negotiate(None, "zh-CN,zh;q=0.9,en;q=0.8"), negotiate("en", "zh-CN"), negotiate(None, "fr")
('zh', 'en', 'en')
>>> translate("zh", "nav.instruments"), translate("en", "no.such.key")
('衡器', 'no.such.key')
"""

from __future__ import annotations

from typing import Final

LANG_COOKIE: Final = "hengqi_lang"
LANGUAGES: Final = ("en", "zh")

#: key -> (English, Chinese)
MESSAGES: Final[dict[str, tuple[str, str]]] = {
    "app.title": ("hengqi", "衡器"),
    "app.tagline": ("Weighing instruments: verification, calibration, certificates", "衡器检定、校准与证书"),
    "nav.dashboard": ("Dashboard", "概览"),
    "nav.instruments": ("Instruments", "衡器"),
    "nav.runs": ("Runs", "测量任务"),
    "nav.certificates": ("Certificates", "证书"),
    "nav.signout": ("Sign out", "退出"),
    "nav.api": ("API", "接口"),
    "login.title": ("Sign in", "登录"),
    "login.username": ("User name", "用户名"),
    "login.password": ("Password", "密码"),
    "login.submit": ("Sign in", "登录"),
    "login.failed": ("Wrong user name or password.", "用户名或密码错误。"),
    "login.throttled": (
        "Too many failed sign-ins; please wait a few minutes and try again.",
        "登录失败次数过多，请稍候几分钟再试。",
    ),
    "login.expired": ("The form expired; please sign in again.", "表单已过期，请重新登录。"),
    "dash.overdue": ("Due and overdue", "到期与逾期"),
    "dash.none_due": ("Nothing is due in the next 30 days.", "未来 30 天内没有到期项目。"),
    "dash.in_progress": ("Runs in progress", "进行中的测量"),
    "dash.none_running": ("No run in progress.", "没有进行中的测量。"),
    "dash.recent_certs": ("Recent certificates", "最近的证书"),
    "dash.none_certs": ("No certificate yet.", "尚无证书。"),
    "dash.to_review": ("Waiting for your review", "待您审核"),
    "col.instrument": ("Instrument", "衡器"),
    "col.due": ("Due", "到期"),
    "col.what": ("What", "项目"),
    "col.class": ("Class", "准确度等级"),
    "col.max": ("Max", "最大秤量"),
    "col.status": ("Status", "状态"),
    "col.number": ("Number", "编号"),
    "col.kind": ("Kind", "类型"),
    "col.started": ("Started", "开始"),
    "col.by": ("By", "人员"),
    "col.progress": ("Progress", "进度"),
    "col.load": ("Load", "载荷"),
    "col.error": ("Error E", "示值误差 E"),
    "col.limit": ("Limit", "限值"),
    "col.mpe": ("MPE", "最大允许误差"),
    "col.verdict": ("Verdict", "结论"),
    "col.site": ("Site", "地点"),
    "col.serial": ("Serial", "出厂编号"),
    "col.date": ("Date", "日期"),
    "col.actions": ("", ""),
    "due.verification": ("verification", "检定"),
    "due.calibration": ("calibration", "校准"),
    "due.overdue": ("overdue", "已逾期"),
    "due.today": ("due today", "今日到期"),
    "inst.search": ("Search make, model or serial", "搜索制造商、型号或编号"),
    "inst.all_classes": ("All classes", "全部等级"),
    "inst.all_status": ("Any status", "全部状态"),
    "inst.filter": ("Filter", "筛选"),
    "inst.none": ("No instrument matches.", "没有符合条件的衡器。"),
    "inst.spec": ("Specification", "计量特性"),
    "inst.history": ("History", "历史记录"),
    "inst.curve": ("Errors of indication across calibrations", "历次校准的示值误差"),
    "inst.no_history": ("No run recorded yet.", "尚无记录。"),
    "inst.damaged": ("stored data unreadable", "存储数据无法读取"),
    "inst.connection": ("Connection", "连接"),
    "inst.not_connected": (
        "No instrument connection configured: readings are typed in.",
        "未配置衡器连接：需手动输入示值。",
    ),
    "inst.set_connection": ("Instrument connection", "衡器连接"),
    "inst.url": ("Instrument URL", "衡器地址（URL）"),
    "inst.url_hint": (
        "tcp://HOST:PORT?protocol=mt-sics | sbi | and | toledo-continuous, or serial:///dev/ttyUSB0 (protocol and "
        "line settings found by probing); empty: no connection, readings are typed in.",
        "tcp://主机:端口?protocol=mt-sics | sbi | and | toledo-continuous，或 serial:///dev/ttyUSB0（自动探测协议与串口参数）；"
        "留空：无连接，手动输入示值。",
    ),
    "inst.save_connection": ("Save and test", "保存并测试"),
    "msg.connected": ("Connected; the instrument indicates", "已连接；衡器示值"),
    "msg.saved-untested": (
        "Saved, but not tested now (too many instrument operations under way):",
        "已保存，但暂未测试（进行中的衡器操作过多）：",
    ),
    "msg.saved-offline": (
        "Saved, but the instrument did not answer (check that it is on and the address):",
        "已保存，但衡器无响应（请检查电源与地址）：",
    ),
    "inst.start": ("Start a guided run", "开始引导式测量"),
    "inst.weight_set": ("Reference weight set", "标准砝码组"),
    "inst.mode": ("Readings", "读数方式"),
    "inst.mode.instrument": ("from the instrument", "从衡器读取"),
    "inst.mode.manual": ("typed in (manual entry)", "手动输入"),
    "inst.temperature": ("Temperature at the start (°C, optional)", "开始时温度（°C，可选）"),
    "inst.start_button": ("Start", "开始"),
    "inst.kind": ("Kind", "类型"),
    "inst.types": ("Type", "种类"),
    "spec.class": ("Accuracy class", "准确度等级"),
    "spec.max": ("Max", "最大秤量 Max"),
    "spec.min": ("Min", "最小秤量 Min"),
    "spec.e": ("Verification interval e", "检定分度值 e"),
    "spec.d": ("Scale interval d", "实际分度值 d"),
    "spec.kind": ("Kind", "类型"),
    "spec.verification_due": ("Verification due", "检定到期"),
    "spec.calibration_due": ("Calibration due", "校准到期"),
    "run.title": ("Guided calibration", "引导式校准"),
    "run.title_calibration": ("Guided calibration", "引导式校准"),
    "run.title_verification": ("Guided verification", "引导式检定"),
    "run.auto_changeover": ("Find the change point (add small weights)", "寻找闪变点（逐个加放小砝码）"),
    "run.change_point": ("Load added to the change point dL", "至闪变点的加放量 ΔL"),
    "inst.kind.calibration": ("Calibration (EURAMET cg-18)", "校准（EURAMET cg-18）"),
    "inst.kind.verification": ("Verification (OIML R 76 / JJG 539)", "检定（OIML R 76 / JJG 539）"),
    "inst.stage": ("Verification stage", "检定类别"),
    "inst.rules": ("Rules", "规程"),
    "res.verdict_pass": ("The instrument PASSES the verification.", "衡器检定合格。"),
    "res.verdict_fail": ("The instrument FAILS the verification.", "衡器检定不合格。"),
    "res.checks": ("Checks", "检查项"),
    "res.test_pass": ("pass", "合格"),
    "inst.weight_set_unfit": ("Sets that do not fit this instrument's Max", "与本衡器最大秤量不匹配的砝码组"),
    "run.no_weights": (
        "The selected set cannot make up this load exactly: use weights of this nominal value from another set.",
        "所选砝码组无法准确组成此载荷：请使用其他砝码组中该标称值的砝码。",
    ),
    "res.verification_record": ("Verification record", "检定记录"),
    "res.record_no": ("Record No.", "记录编号"),
    "res.record_note": (
        "Every test with its checks and limits, evaluated to the record's rules; a passed verification gets a "
        "verification certificate, approved and signed by a reviewer.",
        "各项试验及其检查项与限值（按记录所依据的规程评定）；检定合格的出具检定证书，由审核人批准并签名。",
    ),
    "res.verification_certificate": ("Verification certificate", "检定证书"),
    "res.download_record": ("Download the verification record (JSON)", "下载检定记录（JSON）"),
    "res.test_fail": ("fail", "不合格"),
    "col.check": ("Check", "检查项"),
    "col.value": ("Value", "数值"),
    "test.zero-setting": ("Zero-setting", "置零"),
    "test.weighing": ("Weighing test", "称量试验"),
    "test.eccentricity": ("Eccentricity", "偏载"),
    "test.repeatability": ("Repeatability", "重复性"),
    "test.discrimination": ("Discrimination", "鉴别力"),
    "test.tare": ("Tare", "除皮"),
    "test.reference-weights": ("Reference weights (1/3 MPE)", "参考砝码（1/3 最大允许误差）"),
    "res.weighing": ("Errors of the weighing test against the MPE", "称量试验误差与最大允许误差"),
    "col.test": ("Test", "试验"),
    "opt.continue": ("Continue the remaining tests", "继续其余试验"),
    "opt.stop": ("Stop here", "在此停止"),
    "run.step": ("Step", "步骤"),
    "run.of": ("of", "/"),
    "run.live": ("Live indication", "实时示值"),
    "run.stable": ("stable", "稳定"),
    "run.unstable": ("settling…", "未稳定…"),
    "run.offline": ("no connection", "未连接"),
    "run.manual": ("manual entry", "手动输入"),
    "run.confirm": ("Done", "完成"),
    "run.placed": ("Placed — continue", "已放置，继续"),
    "run.removed": ("Removed — continue", "已卸下，继续"),
    "run.read": ("Record the stable reading", "记录稳定示值"),
    "run.zero": ("Set to zero", "置零"),
    "run.zero_done": ("Zero set — continue", "已置零，继续"),
    "run.enter": ("Record", "记录"),
    "run.value": ("Indication", "示值"),
    "run.temperature": ("Air temperature, °C", "空气温度，°C"),
    "run.pressure": ("Barometric pressure, hPa", "大气压力，hPa"),
    "run.humidity": ("Relative humidity, %", "相对湿度，%"),
    "run.value_hint": ("e.g. 100.0003", "例如 100.0003"),
    "run.weights": ("Weights", "砝码"),
    "run.position": ("Position", "位置"),
    "run.results_so_far": ("Results so far", "已得结果"),
    "run.no_results": ("Each test load's error appears here as it is measured.", "每个测试载荷的误差测得后显示于此。"),
    "run.cancel": ("Cancel the run", "取消测量"),
    "run.cancel_confirm": ("Cancel this run? The steps done are kept.", "确定取消本次测量？已完成的步骤会保留。"),
    "run.switch_manual": ("Switch to manual entry", "改为手动输入"),
    "run.switch_instrument": ("Read from the instrument", "改为从衡器读取"),
    "run.finished": ("The run is complete.", "测量已完成。"),
    "run.cancelled": ("The run was cancelled.", "测量已取消。"),
    "run.see_results": ("See the results", "查看结果"),
    "run.shutdown": ("Finishing", "收尾"),
    "run.resume": ("Resume", "继续"),
    "msg.already": ("That step was already recorded; nothing was recorded twice.", "该步骤已记录，未重复记录。"),
    "msg.stale": (
        "Another submission recorded this step first (another technician or another window); nothing was "
        "recorded twice. This is the step the run waits at now.",
        "此步骤已由另一提交先行记录（其他人员或其他窗口），未重复记录。当前显示的是测量正在等待的步骤。",
    ),
    "msg.instrument": (
        "The instrument did not answer: nothing was recorded. Check the cable or connection and try again, "
        "or switch to manual entry.",
        "衡器无响应：未记录任何数据。请检查线缆或连接后重试，或改为手动输入。",
    ),
    "msg.invalid": ("The value was not accepted: nothing was recorded.", "输入值无效：未记录任何数据。"),
    "msg.finished": ("The run has already ended.", "测量已结束。"),
    "msg.approved": ("Certificate approved, signed and issued.", "证书已批准、签名并签发。"),
    "msg.denied": ("Not permitted.", "无权执行此操作。"),
    "msg.csrf": ("The page expired; please try again.", "页面已过期，请重试。"),
    "msg.confirm": (
        "This reading does not fit the step: confirm it with a reason, or measure again. Nothing was recorded yet.",
        "该示值与本步骤不符：请填写理由予以确认，或重新测量。尚未记录任何数据。",
    ),
    "msg.taken-over": (
        "You now perform this run (recorded in the audit trail).",
        "您已接管本次测量（已记入审计记录）。",
    ),
    "msg.abandoned": ("The run was ended; the instrument is free.", "测量已终止，衡器已释放。"),
    "msg.corrected": ("The reading was corrected; the original is kept.", "示值已更正，原始记录已保留。"),
    "msg.returned": ("The run was returned to its technician with your comment.", "已附意见退回给技术人员。"),
    "msg.resubmitted": ("The run was sent for review again.", "已重新提交审核。"),
    "run.performer": ("Recorded by", "记录人"),
    "run.not_performer": (
        "Only the person performing this run records its steps.",
        "只有执行本次测量的人员可以记录其步骤。",
    ),
    "run.take_over": ("Take this run over", "接管本次测量"),
    "run.take_over_confirm": (
        "Take this run over? From now on only you record its steps; this is recorded in the audit trail.",
        "确定接管？此后只有您可以记录其步骤；此操作将记入审计记录。",
    ),
    "run.abandon": ("End this stale run", "终止此停滞的测量"),
    "run.abandon_reason": ("Reason for ending it", "终止理由"),
    "run.abandoned": ("This run was ended by a quality manager", "本次测量已由质量负责人终止"),
    "run.held": ("Reading held for confirmation", "待确认的示值"),
    "run.accept": ("Record it with this reason", "按此理由记录"),
    "run.remeasure": ("Measure again", "重新测量"),
    "run.reason": ("Reason", "理由"),
    "run.readings": ("Recorded readings", "已记录的示值"),
    "run.correct": ("Correct", "更正"),
    "run.corrected": ("corrected", "已更正"),
    "run.new_value": ("New value", "新值"),
    "run.returned": ("Returned by the reviewer", "审核人退回"),
    "run.resubmit": ("Send for review again", "重新提交审核"),
    "run.unit_hint": ("a bare number is read in {unit}; 110,5 is 110.5", "不带单位的数值按 {unit} 计；110,5 即 110.5"),
    "res.warnings": ("Warnings for the review", "审核提示"),
    "res.no_warnings": ("No warnings.", "无提示。"),
    "res.return": ("Return to the technician", "退回技术人员"),
    "res.comment": ("Comment for the technician", "给技术人员的意见"),
    "res.approve_review": ("Review and approve…", "审核并批准…"),
    "res.returned_note": ("Returned for correction", "已退回更正"),
    "appr.title": ("Approve, sign and issue", "批准、签名并签发"),
    "appr.what": (
        "You are about to sign this certificate. It receives the next number of the laboratory's sequence when "
        "it is issued.",
        "您即将签署此证书。签发时将分配实验室序列中的下一个编号。",
    ),
    "appr.read": ("I have read the results and every warning above.", "我已阅读以上结果及全部提示。"),
    "appr.technician": ("Technician", "技术人员"),
    "inst.in_use": ("In use", "使用中"),
    "res.title": ("Results", "结果"),
    "res.curve": (
        "Errors of indication with expanded uncertainty U and the MPE envelope",
        "示值误差、扩展不确定度 U 与最大允许误差包络",
    ),
    "res.ecc": ("Eccentricity", "偏载"),
    "res.rep": ("Repeatability", "重复性"),
    "res.summary": ("Summary", "摘要"),
    "res.no_record": ("The run has not produced a record.", "本次测量没有生成记录。"),
    "res.certificate": ("Certificate", "证书"),
    "res.review": ("Review and approval", "审核与批准"),
    "res.approve": ("Approve, sign and issue", "批准、签名并签发"),
    "res.four_eyes": (
        "Four-eyes rule: an authorised signatory other than the technician approves.",
        "双人原则：须由技术人员以外的授权签字人批准。",
    ),
    "res.download_pdf": ("Download PDF", "下载 PDF"),
    "res.download_dcc": ("Download DCC (XML)", "下载 DCC（XML）"),
    "res.draft_pdf": ("Draft PDF for review", "审核用 PDF 草稿"),
    "res.s": ("s", "标准偏差 s"),
    "res.max_dev": ("largest deviation", "最大偏差"),
    "legend.error": ("error E", "误差 E"),
    "legend.U": ("± U (k≈2)", "± U（k≈2）"),
    "legend.mpe": ("± MPE (initial verification)", "± 最大允许误差（首次检定）"),
    "status.running": ("running", "进行中"),
    "status.finished": ("finished", "已完成"),
    "status.cancelled": ("cancelled", "已取消"),
    "status.draft": ("draft", "草稿"),
    "status.approved": ("approved", "已批准"),
    "status.issued": ("issued", "已签发"),
    "status.withdrawn": ("withdrawn", "已撤回"),
    "status.superseded": ("superseded", "已替代"),
    "status.in-service": ("in service", "在用"),
    "status.out-of-service": ("out of service", "停用"),
    "status.withdrawn-instrument": ("withdrawn", "已报废"),
    "error.title": ("Something is not right", "出现问题"),
    "error.back": ("Back to the dashboard", "返回概览"),
    "error.not_found": ("Not found.", "未找到。"),
    "lang.switch": ("中文", "English"),
}


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The interface language: the cookie's if known, else the first known one of ``Accept-Language``."""
    if cookie in LANGUAGES:
        return str(cookie)
    for part in (accept_language or "").split(","):
        tag = part.split(";", 1)[0].strip().lower()
        primary = tag.split("-", 1)[0]
        if primary in LANGUAGES:
            return primary
    return "en"


def translate(lang: str, key: str) -> str:
    """The text of ``key`` in ``lang`` (the key itself where the catalogue has none)."""
    texts = MESSAGES.get(key)
    if texts is None:
        return key
    return texts[1] if lang == "zh" else texts[0]

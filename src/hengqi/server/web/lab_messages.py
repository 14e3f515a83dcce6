"""Texts of the lab management screens (registry, users, audit trail), English and Simplified Chinese (zh-CN).

Importing this module adds them to the interface's catalogue :data:`hengqi.server.web.i18n.MESSAGES` (kept in
their own table so the screens and the catalogue's other users change independently).

>>> from hengqi.server.web.i18n import translate
>>> translate("zh", "reg.customers")
'客户'
"""

from __future__ import annotations

from typing import Final

from hengqi.server.web.i18n import MESSAGES

#: key -> (English, Chinese)
LAB_MESSAGES: Final[dict[str, tuple[str, str]]] = {
    "nav.manage": ("Manage", "管理"),
    "reg.customers": ("Customers", "客户"),
    "reg.sites": ("Sites", "地点"),
    "reg.instruments": ("Instruments", "衡器"),
    "reg.weight_sets": ("Weight sets", "砝码组"),
    "reg.weights": ("Weights", "砝码"),
    "reg.name": ("Name", "名称"),
    "reg.name_zh": ("Name (Chinese)", "中文名称"),
    "reg.street": ("Street", "街道"),
    "reg.street_no": ("Number", "门牌号"),
    "reg.post_code": ("Post code", "邮政编码"),
    "reg.city": ("City", "城市"),
    "reg.state": ("Province / state", "省/州"),
    "reg.country": ("Country (ISO code, e.g. CN)", "国家（ISO 代码，如 CN）"),
    "reg.email": ("E-mail", "电子邮件"),
    "reg.phone": ("Telephone", "电话"),
    "reg.address": ("Address", "地址"),
    "reg.latitude": ("Latitude", "纬度"),
    "reg.longitude": ("Longitude", "经度"),
    "reg.make": ("Make", "制造商"),
    "reg.model": ("Model", "型号"),
    "reg.type_approval": ("Type approval", "型式批准"),
    "reg.max": ("Max (kg, or with unit: 220 g)", "最大秤量（kg，或带单位：220 g）"),
    "reg.e": ("Verification scale interval e", "检定分度值 e"),
    "reg.d": ("Actual scale interval d", "实际分度值 d"),
    "reg.min": ("Min", "最小秤量"),
    "reg.owner": ("Owner (customer)", "所有者（客户）"),
    "reg.calibration_due": ("Calibration due", "校准到期"),
    "reg.laboratory": ("Calibration laboratory", "校准实验室"),
    "reg.certificate_number": ("Certificate number", "证书编号"),
    "reg.calibrated_on": ("Calibrated on", "校准日期"),
    "reg.identifier": ("Identifier", "标识"),
    "reg.nominal": ("Nominal value", "标称值"),
    "reg.correction": ("Correction (conventional mass − nominal)", "修正值（折算质量 − 标称值）"),
    "reg.u": ("Expanded uncertainty U", "扩展不确定度 U"),
    "reg.k": ("Coverage factor k", "包含因子 k"),
    "reg.new": ("New", "新建"),
    "reg.create": ("Create", "创建"),
    "reg.save": ("Save changes", "保存更改"),
    "reg.retire": ("Retire", "停用并移除"),
    "reg.retire_note": (
        "Retiring removes the record from every list; it stays in the database and the audit trail.",
        "停用后该记录不再出现在任何列表中，但仍保留在数据库和审计追踪中。",
    ),
    "reg.saved": ("Saved.", "已保存。"),
    "reg.retired": ("Retired.", "已停用。"),
    "reg.refused": ("Not saved:", "未保存："),
    "reg.search": ("Search", "搜索"),
    "reg.sort": ("Sort by", "排序"),
    "reg.ascending": ("ascending", "升序"),
    "reg.descending": ("descending", "降序"),
    "reg.all": ("all", "全部"),
    "reg.due_within": ("Due within (days)", "到期天数以内"),
    "reg.export_csv": ("Export CSV", "导出 CSV"),
    "reg.count": ("records", "条记录"),
    "reg.showing": ("showing the first", "显示前"),
    "reg.none": ("No records.", "没有记录。"),
    "reg.history": ("History", "历史记录"),
    "reg.no_history": ("No entries.", "没有记录。"),
    "reg.when": ("When", "时间"),
    "reg.who": ("Who", "人员"),
    "reg.action": ("Action", "操作"),
    "reg.field": ("Field", "字段"),
    "reg.old": ("Before", "修改前"),
    "reg.new_value": ("After", "修改后"),
    "reg.add_weight": ("Add a weight", "添加砝码"),
    "reg.id": ("No.", "序号"),
    "reg.open": ("Open", "打开"),
    "action.create": ("created", "创建"),
    "action.update": ("changed", "修改"),
    "action.delete": ("retired", "停用"),
    "status.withdrawn-instrument-short": ("withdrawn", "已报废"),
    "usr.users": ("Users", "用户"),
    "usr.tokens": ("API tokens", "接口令牌"),
    "usr.role": ("Role", "角色"),
    "usr.active": ("active", "启用"),
    "usr.inactive": ("deactivated", "已停用"),
    "usr.new": ("New user", "新建用户"),
    "usr.ends_sessions": (
        "A new role, a new password or a deactivation signs the user out everywhere.",
        "更改角色、重置密码或停用账户后，该用户在所有设备上的登录都将结束。",
    ),
    "usr.password_reset": ("Reset password", "重置密码"),
    "usr.new_password": ("New password", "新密码"),
    "usr.deactivate": ("Deactivate", "停用账户"),
    "usr.activate": ("Reactivate", "重新启用"),
    "usr.token_once": (
        "Copy the token now: it is shown this once and cannot be shown again.",
        "请立即复制此令牌：它只显示这一次，之后无法再次查看。",
    ),
    "usr.prefix": ("Begins with", "开头"),
    "usr.created": ("Created", "创建时间"),
    "usr.revoke": ("Revoke", "吊销"),
    "usr.revoked": ("Token revoked.", "令牌已吊销。"),
    "usr.revoked_state": ("revoked", "已吊销"),
    "usr.new_token": ("Create token", "创建令牌"),
    "role.technician": ("technician", "技术员"),
    "role.reviewer": ("reviewer (authorised signatory)", "审核人（授权签字人）"),
    "role.quality-manager": ("quality manager", "质量负责人"),
    "role.regulator": ("regulator", "监管人员"),
    "role.admin": ("administrator", "管理员"),
}

MESSAGES.update(LAB_MESSAGES)

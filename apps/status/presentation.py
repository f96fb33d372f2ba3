"""How a status is shown: the Chinese labels, popup titles and guidance (SPEC §1–2)."""

from .choices import State

STATE_LABEL = {State.GREEN: "未见异常", State.POPUP: "弹窗", State.YELLOW: "居家观察", State.RED: "集中观察"}
STATE_COLOUR = {State.GREEN: "green", State.POPUP: "none", State.YELLOW: "yellow", State.RED: "red"}

POPUP_TITLE = {
    1: "弹窗①：近14天到过有本土病例的县区",
    2: "弹窗②：入境人员隔离观察期未满",
    3: "弹窗③：涉及中高风险地区或风险关联",
    4: "弹窗④：进返京、购药或就诊后未查到核酸阴性结果",
    5: "弹窗⑤：近14天到过陆路边境口岸地区",
}
POPUP_GUIDANCE = {
    1: "请减少外出并关注健康状况；到期后系统自动解除，无需申诉。",
    2: "请按入境隔离要求完成观察；期满当日零时系统自动解除。",
    3: "请联系居住地社区（或通过京心相助填报），核实行程并提供核酸阴性证明后由社区解除；"
    "身在外地可远程核实，无需本人到场。如认为是误伤，可拨打12345反映。",
    4: "请尽快完成核酸检测，阴性结果上传后自动解除。",
    5: "离开口岸地区满14天后系统自动解除。",
}

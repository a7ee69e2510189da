"""Chinese names for the admin sections of third-party apps.

django-axes has no Chinese translation and django-otp's TOTP device name is not even
translatable, so the admin index showed "AXES · Access attempts" and "OTP_TOTP · TOTP
devices". Django lets a project choose an app's AppConfig in INSTALLED_APPS; these
subclasses keep each library's own start-up (`ready()`) and only rename what the admin
shows: the section, its models and the fields its change lists display. Migrations read
the libraries' original names (Meta.original_attrs, Field._verbose_name), so the
renaming adds no migration to a third-party app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig, apps
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.apps import DefaultConfig as TOTPDefaultConfig

if TYPE_CHECKING:  # django-stubs' name for a lazy translated string
    from django.utils.functional import _StrPromise as Label
else:
    Label = Promise

# model name -> (verbose_name, verbose_name_plural)
Names = dict[str, tuple[Label, Label]]


def rename(config: AppConfig, models: Names, fields: dict[str, Label]) -> None:
    for model in apps.get_app_config(config.label).get_models():
        names = models.get(model._meta.model_name or "")
        if names:
            model._meta.verbose_name, model._meta.verbose_name_plural = names
        for field in model._meta.get_fields():
            label = fields.get(field.name)
            if label is not None and hasattr(field, "verbose_name"):
                field.verbose_name = label


def _access_words(what: str) -> Any:
    def text(self: Any) -> str:
        return f"{self.username} {what}（{self.attempt_time:%Y-%m-%d %H:%M}）"

    return text


class AxesConfig(AxesAppConfig):
    verbose_name = _("登录防护")

    def ready(self) -> None:
        super().ready()
        rename(
            self,
            {
                "accessattempt": (_("登录失败记录"), _("登录失败记录")),
                "accessfailurelog": (_("登录失败日志"), _("登录失败日志")),
                "accesslog": (_("登录日志"), _("登录日志")),
                "accessattemptexpiration": (_("锁定到期时间"), _("锁定到期时间")),
            },
            {
                "user_agent": _("浏览器"),
                "ip_address": _("IP 地址"),
                "username": _("用户名"),
                "http_accept": _("请求接受类型"),
                "path_info": _("访问路径"),
                "attempt_time": _("尝试时间"),
                "get_data": _("GET 数据"),
                "post_data": _("POST 数据"),
                "failures_since_start": _("失败次数"),
                "logout_time": _("退出时间"),
                "locked_out": _("已锁定"),
                "session_hash": _("会话摘要"),
                "expires_at": _("到期时间"),
                "access_attempt": _("登录失败记录"),
            },
        )
        # The library's titles are English f-strings (not translatable); the admin shows
        # them as each record's heading and in its breadcrumbs.
        from axes.models import AccessAttempt, AccessFailureLog, AccessLog

        AccessLog.__str__ = _access_words("登录记录")  # type: ignore[method-assign]
        AccessAttempt.__str__ = _access_words("登录失败")  # type: ignore[method-assign]
        AccessFailureLog.__str__ = _access_words("登录失败")  # type: ignore[method-assign]


class TOTPConfig(TOTPDefaultConfig):
    verbose_name = _("动态口令（两步验证）")

    def ready(self) -> None:
        super().ready()
        rename(
            self,
            {"totpdevice": (_("动态口令设备"), _("动态口令设备"))},
            {
                "user": _("用户"),
                "name": _("设备名称"),
                "confirmed": _("已确认"),
                "key": _("密钥"),
                "step": _("时间步长（秒）"),
                "digits": _("位数"),
                "tolerance": _("容许误差"),
                "drift": _("时钟偏差"),
                "last_t": _("最近使用的时间步"),
                "throttling_failure_count": _("连续失败次数"),
                "throttling_failure_timestamp": _("最近失败时间"),
            },
        )

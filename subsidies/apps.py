from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubsidiesConfig(AppConfig):
    name = "subsidies"
    verbose_name = _("学生资助")

    def ready(self) -> None:
        from intake.base import register

        from .imports import SPECS

        for spec in SPECS:
            register(spec)
        self._watch_figures()

    def _watch_figures(self) -> None:
        """Any saved or deleted subsidy row makes the cached dashboard figures stale (bulk
        imports move the version through the upload pipeline instead)."""
        from django.db.models.signals import post_delete, post_save

        from tasks import figures
        from tasks.models import RosterStudent

        from . import findings, selectors
        from .models import Disbursement, Notice, Semester, SubsidyItem, SubsidyStandard

        def changed(sender: type, **kwargs: object) -> None:
            figures.data_changed("subsidies")
            if sender in (Disbursement, RosterStudent):
                # The admin's corrections and deletes: the stored findings follow in the
                # same transaction (the database triggers marked the ID).
                findings.refresh()

        for model in (Disbursement, Notice, Semester, SubsidyItem, SubsidyStandard, RosterStudent):
            # weak=False: `changed` is a local function; a weak reference would die at once.
            uid = f"figures-{model.__name__}"
            post_save.connect(changed, sender=model, weak=False, dispatch_uid=f"{uid}-save")
            post_delete.connect(changed, sender=model, weak=False, dispatch_uid=f"{uid}-delete")
        figures.register_warmer("subsidies", selectors.figures_warm)

"""django-import-export resources for the admin: export as usual, import through the
upload pipeline (`intake.admin.SpecImportMixin`: an admin import is an upload like any
other, STYLE rule 14)."""

from __future__ import annotations

from typing import Any

from import_export import fields, resources

from intake.admin import SpecImportMixin
from tasks.models import RosterStudent
from xc_fupin.lib.export import neutralize
from xc_fupin.lib.idnumber import mask_id_number, mask_name

from .models import Disbursement, SubsidyStandard


class NeutralisedExportMixin:
    """Every exported cell goes through the export guard (xc_fupin/lib/export.py): text a
    school, a county or a pasted name starts with = + - @ is not run as a formula when
    the admin's CSV or xlsx is opened in Excel."""

    def export_field(self, field: Any, instance: Any, **kwargs: Any) -> Any:
        return neutralize(super().export_field(field, instance, **kwargs))  # type: ignore[misc]


class MaskedExportMixin:
    """Admin exports carry names and ID numbers masked: full ones leave only through the
    semester export, with a permission and a logged reason (tasks.privacy)."""

    def dehydrate_id_number(self, obj: Any) -> str:
        return mask_id_number(obj.id_number)

    def dehydrate_name(self, obj: Any) -> str:
        return mask_name(obj.name)


class RosterStudentResource(
    NeutralisedExportMixin, MaskedExportMixin, SpecImportMixin, resources.ModelResource
):
    spec_key = "roster"
    county = fields.Field(attribute="county__name", column_name="县区")
    school = fields.Field(attribute="school__name", column_name="就读学校")

    class Meta:
        model = RosterStudent
        fields = (
            "id_number",
            "name",
            "gender",
            "birth_date",
            "county",
            "school",
            "stage",
            "grade",
            "boarding",
            "is_active",
        )
        export_order = fields
        import_id_fields = ("id_number",)


class SubsidyStandardResource(NeutralisedExportMixin, SpecImportMixin, resources.ModelResource):
    spec_key = "standards"
    item = fields.Field(attribute="item__name", column_name="资助项目")
    semester = fields.Field(attribute="semester__code", column_name="学期")

    class Meta:
        model = SubsidyStandard
        fields = (
            "item",
            "stage",
            "target",
            "semester",
            "tier",
            "amount",
            "valid_from",
            "valid_to",
            "source",
        )
        export_order = fields


class DisbursementResource(
    NeutralisedExportMixin, MaskedExportMixin, SpecImportMixin, resources.ModelResource
):
    spec_key = "disbursements"
    school = fields.Field(attribute="school__name", column_name="就读学校")
    item = fields.Field(attribute="item__name", column_name="资助项目")
    semester = fields.Field(attribute="semester__code", column_name="学期")

    class Meta:
        model = Disbursement
        fields = ("id_number", "name", "school", "item", "semester", "amount", "paid_on")
        export_order = fields
        import_id_fields = ("semester", "item", "id_number")


class PlainDisbursementResource(resources.ModelResource):
    """django-import-export's default per-row import, kept only as the benchmark baseline."""

    class Meta:
        model = Disbursement
        fields = (
            "id",
            "id_number",
            "name",
            "school",
            "county",
            "item",
            "semester",
            "amount",
            "paid_on",
        )

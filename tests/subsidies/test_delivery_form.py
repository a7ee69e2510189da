from __future__ import annotations

import datetime as dt

from django.utils import translation

from subsidies.forms import DeliveryForm


def test_it_prefills_the_date_input_in_the_iso_form_the_browser_accepts() -> None:
    # Under zh-hans Django's default date format is 2019/06/16, which <input type=date>
    # rejects and shows as an empty field.
    with translation.override("zh-hans"):
        html = str(DeliveryForm(initial={"on": dt.date(2019, 6, 16)})["on"])
    assert 'type="date"' in html and 'value="2019-06-16"' in html

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_it_shows_a_chinese_404_without_the_resolver_dump(xuanzhou_staff: Any) -> None:
    client = Client()
    client.force_login(xuanzhou_staff)
    response = client.get("/no-such-page/")
    text = response.content.decode()
    assert response.status_code == 404
    assert "未找到" in text and "不存在" in text
    assert "Resolver404" not in text and "no-such-page" not in text


def test_it_hides_english_model_messages_from_get_object_or_404(xuanzhou_staff: Any) -> None:
    client = Client()
    client.force_login(xuanzhou_staff)
    response = client.get("/reports/submission/999999/")
    text = response.content.decode()
    assert response.status_code == 404
    assert "matches the given query" not in text and "MonthlySubmission" not in text


def test_it_keeps_a_chinese_message_written_for_users(xuanzhou_staff: Any) -> None:
    client = Client()
    client.force_login(xuanzhou_staff)
    response = client.get("/tasks/99/")
    assert response.status_code == 404
    assert "本计划只有第 1–22 项任务" in response.content.decode()

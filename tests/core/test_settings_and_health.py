"""Settings refuse unsafe secrets in production; /health and /ready tell the truth."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
import httpx
from pydantic import SecretStr, ValidationError

from core.settings import Mode, Settings


def test_production_refuses_the_unsafe_default_secrets() -> None:
    with pytest.raises(ValidationError, match="LOTSE_SECRET_KEY"):
        Settings(mode=Mode.PRODUCTION)
    with pytest.raises(ValidationError, match="LOTSE_ENCRYPTION_KEYS"):
        Settings(mode=Mode.PRODUCTION, secret_key=SecretStr("s" * 40))
    good = Settings(
        mode=Mode.PRODUCTION,
        secret_key=SecretStr("s" * 40),
        encryption_keys=SecretStr(Fernet.generate_key().decode()),
    )
    assert good.mode is Mode.PRODUCTION
    assert not good.seeds_demo_availability, "no demo hours in production"


@pytest.mark.db
async def test_health_and_ready(lotse, app_settings: Settings) -> None:  # type: ignore[no-untyped-def]
    from lotse.app import create_app

    app = create_app(app_settings.model_copy(update={"role": "web"}), lotse)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://lotse") as client:
        assert (await client.get("/health")).json() == {"status": "ok"}
        ready = await client.get("/ready")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"database": True, "migrations": True, "nlu": True, "content": True}
        with lotse.db.begin() as connection:
            connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'stale'")
        stale = await client.get("/ready")
        assert stale.status_code == 503 and stale.json()["checks"]["migrations"] is False


@pytest.mark.db
async def test_the_scheduler_role_runs_every_job_as_a_coroutine(lotse, app_settings: Settings) -> None:  # type: ignore[no-untyped-def]
    """APScheduler awaits coroutine functions and runs anything else in a thread: a job that
    only returns a coroutine (a lambda around an async call) would never run. So it was with
    the team webhooks, which were never delivered."""
    import inspect

    from lotse.app import create_app

    app = create_app(app_settings.model_copy(update={"role": "scheduler"}), lotse)
    async with app.router.lifespan_context(app):
        jobs = {job.id: job.func for job in app.state.scheduler.get_jobs()}
    assert {"deliver_due", "deliver_webhooks", "expire_holds", "expire_reply_copies", "retention_purge"} <= set(jobs)
    assert all(inspect.iscoroutinefunction(func) for func in jobs.values()), jobs

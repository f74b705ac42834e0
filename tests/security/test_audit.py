"""The audit log: every order action is appended with the hash of the entry before it, and
``python -m app audit verify`` names the first entry that was changed, removed or inserted."""

from __future__ import annotations

import io
from argparse import Namespace
from decimal import Decimal

from helpers import Rig

from app.cli import run_audit
from app.domain.enums import OrderType, Side
from app.domain.order import OrderRequest
from app.security.audit import verify

D = Decimal


async def rig_with_actions(tmp_path) -> Rig:
    rig = Rig(tmp_path)
    await rig.start()
    rig.book("60000")
    rig.trade("60000")
    o = await rig.om.submit(OrderRequest("sim", "BTC/USDT", Side.BUY, OrderType.LIMIT, D("0.1"), price=D("59000")))
    await rig.om.modify(o.client_order_id, price=D("59100"))
    await rig.om.cancel_all()
    await rig.om.kill_switch()
    rig.om.rearm()
    return rig


def audit(tmp_path, action: str = "verify") -> tuple[int, str]:
    out = io.StringIO()
    code = run_audit(Namespace(action=action, data_dir=None, db=f"sqlite:///{tmp_path / 'db.sqlite3'}", last=50), out)
    return code, out.getvalue()


async def test_every_order_action_is_in_the_chain(tmp_path):
    rig = await rig_with_actions(tmp_path)
    entries = rig.store.load_audit()
    actions = [e.action for e in entries]
    for expected in ("order.submit", "order.modify", "order.cancel", "kill_switch", "rearm"):
        assert expected in actions
    assert entries[0].details["side"] == "buy" and entries[0].details["price"] == "59000"
    assert all(e.mode == "demo" and e.ts_ms > 0 for e in entries)
    assert verify(entries) is None
    rig.close()
    assert audit(tmp_path) == (0, f"audit log OK: {len(entries)} entries, chain intact\n")


async def test_a_changed_entry_is_named_and_so_is_the_one_after_a_removed_one(tmp_path):
    rig = await rig_with_actions(tmp_path)
    conn = rig.store.connection
    original = conn.exec_driver_sql("SELECT details FROM audit WHERE seq = 2").scalar()
    conn.exec_driver_sql("""UPDATE audit SET details = '{"order":"x","price":"1"}' WHERE seq = 2""")
    code, text = audit(tmp_path)
    assert code == 1 and "BROKEN at entry 2" in text
    conn.exec_driver_sql("UPDATE audit SET details = ? WHERE seq = 2", (original,))
    assert verify(rig.store.load_audit()) is None
    conn.exec_driver_sql("DELETE FROM audit WHERE seq = 3")
    assert verify(rig.store.load_audit()).seq == 4
    rig.close()


async def test_the_chain_continues_over_a_restart(tmp_path):
    rig = await rig_with_actions(tmp_path)
    rig.close()
    again = await rig_with_actions(tmp_path)
    assert verify(again.store.load_audit()) is None
    again.close()

"""The embedded broker: kombu's SQLAlchemy transport made safe for late acknowledgement.

Stock kombu keeps a delivered message as an invisible row and only puts it back when the channel
closes cleanly, so a worker killed with -9 loses the message it was working on, and acked rows are
never deleted. This channel adds what a real broker does:
- an acked (or dead-lettered) message's row is deleted;
- a delivered row is "leased": its timestamp is renewed while the worker holds it
  (`renew_inflight`, called by the consumer loop) and any row whose lease is older than the
  visibility timeout becomes visible again, so a crashed worker's message is redelivered;
- on a clean close, held rows are made visible again in place (no copy, no duplicate);
- a deleted queue's messages are deleted with it (stock kombu keeps them).
SQLite gets WAL and a busy timeout so several worker processes can share one broker file.
"""
from __future__ import annotations

import datetime
import time
from json import loads
from queue import Empty

from kombu.transport import sqlalchemy as kombu_sqla
from kombu.utils.encoding import bytes_to_str
from sqlalchemy import create_engine, event, text, update

OUR_OPTIONS = ("visibility_timeout", "polling_interval")


def _now() -> datetime.datetime:
    # kombu's model stamps rows with naive local time (`datetime.datetime.now`); stay consistent.
    return datetime.datetime.now()


class Channel(kombu_sqla.Channel):
    _engines: dict = {}   # separate cache from stock kombu channels (ours adds pragmas)

    def __init__(self, connection, **kwargs):
        self._inflight: dict[str, int] = {}   # delivery tag -> message row id
        self._last_recovery = 0.0
        super().__init__(connection, **kwargs)
        self.visibility_timeout = float(
            connection.client.transport_options.get("visibility_timeout", 60.0))

    def _engine_from_config(self):
        conninfo = self.connection.client
        options = {k: v for k, v in conninfo.transport_options.items()
                   if k not in OUR_OPTIONS and k not in (
                       "queue_tablename", "message_tablename", "callback", "errback", "max_retries",
                       "interval_start", "interval_step", "interval_max", "retry_errors")}
        url = conninfo.hostname
        if url.startswith("sqlite"):
            options.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(url, **options)
        if engine.dialect.name == "sqlite":
            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn, _record):
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()
        return engine

    def _get(self, queue):
        self._recover_expired()
        obj = self._get_or_create(queue)
        if self.session.bind.name == "sqlite":
            self.session.execute(text("BEGIN IMMEDIATE TRANSACTION"))
        try:
            query = self.session.query(self.message_cls) \
                .filter(self.message_cls.queue_id == obj.id) \
                .filter(self.message_cls.visible != False) \
                .order_by(self.message_cls.id).limit(1)  # noqa: E712
            if self.session.bind.name != "sqlite":
                query = query.with_for_update(skip_locked=True)
            msg = query.first()
            if msg is None:
                raise Empty()
            msg.visible = False
            msg.sent_at = _now()
            payload = loads(bytes_to_str(msg.payload))
            self._inflight[payload["properties"]["delivery_tag"]] = msg.id
            return payload
        finally:
            self.session.commit()

    def _finish(self, delivery_tag, requeue: bool) -> None:
        row_id = self._inflight.pop(delivery_tag, None)
        if row_id is None:
            return
        table = self.message_cls.__table__
        if requeue:
            self.session.execute(update(table).where(table.c.id == row_id).values(visible=True))
        else:
            self.session.execute(table.delete().where(table.c.id == row_id))
        self.session.commit()

    def basic_ack(self, delivery_tag, multiple=False):
        super().basic_ack(delivery_tag, multiple)
        self._finish(delivery_tag, requeue=False)

    def basic_reject(self, delivery_tag, requeue=False):
        # Requeue in place rather than kombu's re-put of a copy.
        self.qos.reject(delivery_tag, requeue=False)
        self._finish(delivery_tag, requeue=requeue)

    def queue_delete(self, queue, if_unused=False, if_empty=False, **kwargs):
        # Stock kombu forgets only the bindings this process knows and keeps the rows.
        if if_empty and self._size(queue):
            return
        super().queue_delete(queue, if_unused=if_unused, if_empty=if_empty, **kwargs)
        self._purge(queue)

    def renew_inflight(self) -> int:
        """Keep held messages invisible: call more often than the visibility timeout."""
        if not self._inflight:
            return 0
        table = self.message_cls.__table__
        result = self.session.execute(update(table).where(table.c.id.in_(list(self._inflight.values())))
                                      .values(timestamp=_now()))
        self.session.commit()
        return result.rowcount

    def _recover_expired(self) -> None:
        now = time.monotonic()
        if now - self._last_recovery < min(10.0, self.visibility_timeout / 3):
            return
        self._last_recovery = now
        table = self.message_cls.__table__
        cutoff = _now() - datetime.timedelta(seconds=self.visibility_timeout)
        held = list(self._inflight.values())
        stmt = update(table).where(table.c.visible == False, table.c.timestamp < cutoff)  # noqa: E712
        if held:
            stmt = stmt.where(table.c.id.not_in(held))
        self.session.execute(stmt.values(visible=True))
        self.session.commit()

    def close(self):
        if not self.closed and self._inflight:
            try:
                table = self.message_cls.__table__
                self.session.execute(update(table).where(table.c.id.in_(list(self._inflight.values())))
                                     .values(visible=True))
                self.session.commit()
                self._inflight.clear()
                if self._qos is not None:
                    self._qos._delivered.clear()
            except Exception:  # the visibility timeout still brings them back
                pass
        super().close()
        if self._session is not None:
            self._session.close()
            self._session = None


class Transport(kombu_sqla.Transport):
    Channel = Channel

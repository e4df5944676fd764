"""The watched folder: one sub-folder per organization (named by its id), laid out for an SFTP server.

    <root>/<org id>/in/         partners put interchanges here (upload as *.tmp, then rename: half-written
                                files are never read)
    <root>/<org id>/processed/  taken interchanges (accepted, partly accepted or rejected — see the log)
    <root>/<org id>/failed/     files refused outright, each with a <name>.reason.txt beside it
    <root>/<org id>/out/        what we send: ORDRSP, DESADV, INVOIC, CONTRL (written as .tmp, then renamed)

Each file is taken in its own transaction, so one bad file never holds up the others.
"""

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from integrations.edi.inbound import receive_interchange
from integrations.edi.service import pending_outbound, take_outbound
from tradeloom.audit import Actor
from tradeloom.db import make_engine, make_sessionmaker, tenant_transaction
from tradeloom.errors import TradeloomError

FOLDERS = ("in", "processed", "failed", "out")


@dataclass
class FolderRun:
    taken: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)


def _organization_folders(root: Path) -> list[tuple[uuid.UUID, Path]]:
    """The folders named by an organization id, with their sub-folders made (file work is quick and local)."""
    found = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        try:
            org_id = uuid.UUID(folder.name)
        except ValueError:
            continue
        for name in FOLDERS:
            (folder / name).mkdir(exist_ok=True)
        found.append((org_id, folder))
    return found


def _file_away(path: Path, folder: str, reason: str | None = None) -> None:
    target = path.parent.parent / folder / path.name
    if reason:
        target.with_name(path.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")
    path.replace(target)


def _incoming(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                  and p.suffix != ".tmp")


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


async def exchange_folder(sessionmaker: async_sessionmaker[AsyncSession], root: Path) -> FolderRun:
    """Take every waiting interchange and write every pending outbound one, for each organization folder."""
    run = FolderRun()
    for org_id, org_folder in _organization_folders(root):
        for path in _incoming(org_folder / "in"):
            await _take_file(sessionmaker, org_id, path, run)
        await _write_outbound(sessionmaker, org_id, org_folder / "out", run)
    return run


async def _take_file(sessionmaker: async_sessionmaker[AsyncSession], org_id: uuid.UUID, path: Path,
                     run: FolderRun) -> None:
    try:
        text = _read(path)
        async with tenant_transaction(sessionmaker, org_id=org_id) as session:
            await receive_interchange(session, actor=Actor(org_id=org_id), text=text, filename=path.name)
    except (TradeloomError, UnicodeDecodeError) as exc:
        _file_away(path, "failed", exc.message if isinstance(exc, TradeloomError) else "The file is not UTF-8 text.")
        run.failed.append(path.name)
        return
    _file_away(path, "processed")
    run.taken.append(path.name)


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


async def _write_outbound(sessionmaker: async_sessionmaker[AsyncSession], org_id: uuid.UUID, folder: Path,
                          run: FolderRun) -> None:
    async with tenant_transaction(sessionmaker, org_id=org_id) as session:
        for interchange in await pending_outbound(session):
            name = interchange.filename or f"{interchange.id}.edi"
            _write_atomically(folder / name, interchange.content)
            await take_outbound(session, interchange_id=interchange.id)
            run.written.append(name)


async def watch_folder(database_url: str, root: Path, *, once: bool, interval_seconds: float,
                       report: Callable[[str], None]) -> None:
    """Exchange the folder now and then every ``interval_seconds`` (once only with ``once``)."""
    engine = make_engine(database_url, pool_size=2)
    try:
        while True:
            run = await exchange_folder(make_sessionmaker(engine), root)
            if run.taken or run.failed or run.written:
                report(f"taken {len(run.taken)}, failed {len(run.failed)}, written {len(run.written)}")
            if once:
                return
            await asyncio.sleep(interval_seconds)
    finally:
        await engine.dispose()

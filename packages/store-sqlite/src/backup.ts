import { randomUUID } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { AgentdError } from '@agentd/core';
import Database from 'better-sqlite3';

/** One backup file. */
export interface BackupInfo {
  path: string;
  /** When the backup was taken (epoch ms), from its file name. */
  takenAt: number;
  bytes: number;
}

const PREFIX = 'agentd-';
const SUFFIX = '.db';

/** `agentd-2026-11-26T06-04-26-123Z.db`: sorts by time, readable, safe on every file system. */
function backupName(at: number): string {
  return `${PREFIX}${new Date(at).toISOString().replace(/:/g, '-').replace('.', '-')}${SUFFIX}`;
}

function timeOf(name: string): number | undefined {
  const m = /^agentd-(\d{4}-\d\d-\d\d)T(\d\d)-(\d\d)-(\d\d)-(\d{3})Z\.db$/.exec(name);
  return m ? Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5]}Z`) : undefined;
}

/**
 * Backups in `dir`, newest first.
 *
 * @example
 * ```ts
 * const [newest] = listBackups('/srv/agentd/backups');
 * ```
 */
export function listBackups(dir: string): BackupInfo[] {
  if (!existsSync(dir)) return [];
  const out: BackupInfo[] = [];
  for (const name of readdirSync(dir)) {
    const takenAt = timeOf(name);
    if (takenAt === undefined) continue;
    const path = join(dir, name);
    out.push({ path, takenAt, bytes: statSync(path).size });
  }
  return out.sort((a, b) => b.takenAt - a.takenAt);
}

/**
 * Takes an online backup of an open database with SQLite's backup API (consistent even while
 * other connections write), then deletes all but the newest `keep` backups in `dir`.
 *
 * @example
 * ```ts
 * const info = await createBackup(db, '/srv/agentd/backups', 24);
 * ```
 */
export async function createBackup(
  db: Database.Database,
  dir: string,
  keep: number,
  now = Date.now(),
): Promise<BackupInfo> {
  mkdirSync(dir, { recursive: true });
  // A crash mid-backup leaves only a .partial file, never a truncated "backup" to restore from.
  // Its name is unique, so backups taken at once (the periodic one and `agentd backup`, in one
  // process or two) never write the same file.
  const partial = join(dir, `${PREFIX}${randomUUID()}.partial`);
  removeAbandonedPartials(dir, now);
  let published: { path: string; at: number } | undefined;
  try {
    await db.backup(partial);
    // Published under its time, the next free millisecond if another backup took this one.
    for (let at = now; !published; at++) {
      const path = join(dir, backupName(at));
      if (publishNew(partial, path)) published = { path, at };
    }
  } finally {
    rmSync(partial, { force: true });
  }
  for (const old of listBackups(dir).slice(Math.max(1, keep))) rmSync(old.path, { force: true });
  return { path: published.path, takenAt: published.at, bytes: statSync(published.path).size };
}

/**
 * Gives the finished backup `from` the name `to` unless a file has it. A hard link fails instead
 * of replacing; file systems without hard links (FAT, some network shares) fall back to a rename
 * after checking the name is free.
 */
function publishNew(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    if (existsSync(to)) return false;
    renameSync(from, to);
    return true;
  }
}

/** Half-written backups a crash left behind: older than any backup takes to write. */
function removeAbandonedPartials(dir: string, now: number): void {
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(PREFIX) || !name.endsWith('.partial')) continue;
    const path = join(dir, name);
    if (now - statSync(path).mtimeMs > 3_600_000) rmSync(path, { force: true });
  }
}

/** The result of an integrity check. */
export type IntegrityResult =
  | { ok: true }
  | {
      ok: false;
      reason: string;
      /** SQLite's error code when the file could not be read at all (`SQLITE_NOTADB`, ...). */
      code?: string;
    };

/**
 * The SQLite codes that say a file is damaged. Others (`SQLITE_READONLY`, `SQLITE_CANTOPEN`,
 * `SQLITE_PERM`, `SQLITE_BUSY`, `SQLITE_IOERR`...) say this process cannot open, lock or write it
 * or its folder just now, which moving the file away or restoring a backup would not mend.
 */
const DAMAGE_CODES = /^SQLITE_(CORRUPT|NOTADB)/;

/**
 * Checks a database file without changing it: it must open as SQLite and pass
 * `PRAGMA quick_check` (structure and index consistency), which reads every page (about a
 * second at a million tasks). `shallow` checks only that it opens as SQLite and its schema
 * reads: a file overwritten or truncated fails, a damaged page deep in a table does not.
 *
 * @example
 * ```ts
 * const result = checkIntegrity('/srv/agentd/agentd.db');
 * if (!result.ok) console.error(result.reason);
 * ```
 */
export function checkIntegrity(path: string, options: { shallow?: boolean } = {}): IntegrityResult {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    if (options.shallow) {
      db.prepare('SELECT count(*) FROM sqlite_schema').get();
      return { ok: true };
    }
    const rows = db.pragma('quick_check') as { quick_check: string }[];
    const problems = rows.map((r) => r.quick_check).filter((r) => r !== 'ok');
    return problems.length === 0
      ? { ok: true }
      : { ok: false, reason: problems.slice(0, 3).join('; ') };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return {
      ok: false,
      reason: error instanceof Error ? error.message : String(error),
      ...(typeof code === 'string' && { code }),
    };
  } finally {
    db?.close();
  }
}

/**
 * Why the database file at `path` cannot be used as it is, or undefined when it passes its check
 * or does not exist yet. Changes nothing. A 0-byte file is damaged when `backupDir` holds a
 * backup: a store that once held data was truncated, and opening it would silently start an
 * empty store. With no backup it is what a crash during the store's very first creation leaves
 * (the file exists before SQLite writes its first page), so it is not damaged: it opens as a
 * new, empty store.
 *
 * Throws `E_STORE_ACCESS` when SQLite cannot open the file for a reason that is not damage (see
 * {@link DAMAGE_CODES}): a read-only folder, permissions, a lock, an I/O error.
 *
 * @example
 * ```ts
 * const damage = findDamage('/srv/agentd/agentd.db', '/srv/agentd/backups');
 * if (damage) console.error(`corrupt: ${damage}`);
 * ```
 */
export function findDamage(
  path: string,
  backupDir?: string,
  options: { shallow?: boolean } = {},
): string | undefined {
  if (!existsSync(path)) return undefined;
  if (statSync(path).size === 0) {
    const backups = backupDir ? listBackups(backupDir) : [];
    return backups.length > 0
      ? `the file is empty (0 bytes), but ${backups.length} backup(s) exist, so it held data once`
      : undefined;
  }
  const check = checkIntegrity(path, options);
  if (check.ok) return undefined;
  if (check.code !== undefined && !DAMAGE_CODES.test(check.code)) {
    throw new AgentdError(
      'E_STORE_ACCESS',
      `cannot open the store ${path}: ${check.reason} (${check.code}). This is not damage: this process cannot open, lock or write the file or its folder (${dirname(path)}). Check their owner and permissions, that the disk is mounted read-write, and that no other program holds the file; nothing was changed.`,
    );
  }
  return check.reason;
}

/** What {@link recoverCorruptDatabase} did. */
export interface RecoveryOutcome {
  /** Why the file was judged corrupt. */
  reason: string;
  /** Where the corrupt file (and its -wal/-shm) now lie. */
  movedTo: string;
  /** The backup copied in its place. */
  restoredFrom: BackupInfo;
  /** Backups that were also corrupt and skipped. */
  skipped: string[];
}

/** Thrown when the database is corrupt and no good backup exists; nothing was moved. */
export class UnrecoverableDatabaseError extends Error {
  override name = 'UnrecoverableDatabaseError';
}

/**
 * Checks the database at `path` (see {@link findDamage}) and, if it is corrupt, moves it aside (never deletes it) and
 * copies the newest backup that passes its own check into its place. Returns undefined when the
 * file is healthy or does not exist yet. Throws {@link UnrecoverableDatabaseError} when the file
 * is corrupt and no good backup exists, leaving everything in place for a human to look at.
 * Must run before the database is opened.
 *
 * @example
 * ```ts
 * const outcome = recoverCorruptDatabase(dbPath, backupDir);
 * if (outcome) logger.error(outcome, 'database was corrupt; restored the newest good backup');
 * ```
 */
export function recoverCorruptDatabase(
  path: string,
  backupDir: string,
  now = Date.now(),
): RecoveryOutcome | undefined {
  const reason = findDamage(path, backupDir);
  return reason === undefined ? undefined : restoreNewestGood(path, backupDir, reason, now);
}

/**
 * The repair half of {@link recoverCorruptDatabase}, for a file already found damaged (`reason`):
 * moves it aside and copies the newest intact backup in its place, or throws
 * {@link UnrecoverableDatabaseError} and moves nothing.
 */
export function restoreNewestGood(
  path: string,
  backupDir: string,
  reason: string,
  now = Date.now(),
): RecoveryOutcome {
  const skipped: string[] = [];
  const good = listBackups(backupDir).find((b) => {
    const ok = checkIntegrity(b.path).ok;
    if (!ok) skipped.push(b.path);
    return ok;
  });
  if (!good) {
    throw new UnrecoverableDatabaseError(
      `the database ${path} is corrupt (${reason}) and there is no good backup in ${backupDir}; ` +
        'move the file away to start with an empty store, or restore a copy with "agentd restore <file>"',
    );
  }
  const movedTo = replaceDatabaseFile(path, good.path, now);
  return { reason, movedTo: movedTo!, restoredFrom: good, skipped };
}

/**
 * Replaces the database file at `path` with a copy of `source`. The current file, with its
 * -wal and -shm companions (which belong to it and would corrupt the copy if left), is moved to
 * `<path>.replaced-<time>` first. Returns where it went, or undefined if there was none.
 * The database must not be open anywhere.
 *
 * @example
 * ```ts
 * replaceDatabaseFile('/srv/agentd/agentd.db', '/srv/agentd/backups/agentd-2026-11-26T06-00-00-000Z.db');
 * ```
 */
export function replaceDatabaseFile(
  path: string,
  source: string,
  now = Date.now(),
): string | undefined {
  let movedTo: string | undefined;
  if (existsSync(path)) {
    movedTo = `${path}.replaced-${new Date(now).toISOString().replace(/[:.]/g, '-')}`;
    renameSync(path, movedTo);
  }
  for (const suffix of ['-wal', '-shm']) {
    if (!existsSync(path + suffix)) continue;
    if (movedTo) renameSync(path + suffix, movedTo + suffix);
    else rmSync(path + suffix, { force: true });
  }
  const partial = `${path}.restoring`;
  copyFileSync(source, partial);
  renameSync(partial, path);
  return movedTo;
}

/** Directory for backups of the database at `path` unless configured: `<dir>/backups`. */
export function defaultBackupDir(path: string): string {
  return join(path, '..', 'backups');
}

/** File name used in logs and alerts. */
export function describeBackup(info: BackupInfo): string {
  return `${basename(info.path)} (${new Date(info.takenAt).toISOString()}, ${info.bytes} bytes)`;
}

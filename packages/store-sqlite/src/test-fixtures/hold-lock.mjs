// Another process holding the database's write lock: opens the file, takes the lock with
// BEGIN IMMEDIATE, prints "locked", holds it for the given milliseconds (sleeping, as a slow
// or stuck writer would), then commits, prints "released" and exits.
import Database from 'better-sqlite3';

const [path, holdMs] = process.argv.slice(2);
const db = new Database(path);
db.exec('BEGIN IMMEDIATE');
db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('lock-holder', ?)").run(
  String(process.pid),
);
process.stdout.write('locked\n');
setTimeout(() => {
  db.exec('COMMIT');
  db.close();
  process.stdout.write('released\n');
}, Number(holdMs));

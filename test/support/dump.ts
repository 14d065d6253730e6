/** A full dump of the database as text: every table, every row, every column. */
import { sql } from "drizzle-orm";
import { type Database, rowsOf } from "../../db/client.js";

/** Returns each table's rows as PostgreSQL's text form of a row, sorted, keyed by table name. */
export async function dumpTables(db: Database): Promise<Record<string, string[]>> {
  const tables = rowsOf<{ name: string }>(
    await db.execute(sql`select table_name as name from information_schema.tables
      where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`),
  );
  const dump: Record<string, string[]> = {};
  for (const { name } of tables) {
    const rows = rowsOf<{ row: string }>(await db.execute(sql.raw(`select t::text as row from "${name}" t order by 1`)));
    dump[name] = rows.map((row) => row.row);
  }
  return dump;
}

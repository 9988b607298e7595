// The SQL files the psql tests run.

/** Issue 9's done-when: 37 SELECTs, 3 SELECTs of a missing table, 5 INSERTs, literals everywhere. */
export function doneWhenScript(): string {
  const lines: string[] = [];
  for (let i = 0; i < 37; i++) lines.push(i % 2 === 0 ? `SELECT id, name FROM items WHERE id = ${i} AND name <> 'secret-${i}';` : 'SELECT count(*) FROM items;');
  for (let i = 0; i < 3; i++) lines.push(`SELECT * FROM missing_table WHERE token = 'hunter${i}';`);
  for (let i = 0; i < 5; i++) lines.push(`INSERT INTO items (id, name) VALUES (${100 + i}, 'alice-${i}');`);
  return lines.join('\n') + '\n';
}

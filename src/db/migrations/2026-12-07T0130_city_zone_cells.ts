import { polygonToCells, compactCells, latLngToCell } from 'h3-js';
import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports (h3-js is a library). Zones as H3 cells (issue #26):
// each zone keeps its cells, compacted (`cells`, H3 ids as text), and the resolution they were
// cut at; the polygon becomes optional (an admin may give cells only). Existing zones get the
// cells of their polygon at resolution 9 (the default of ZONE_H3_RESOLUTION), or, for an outline
// smaller than a cell, the cell of its first vertex.
const RESOLUTION = 9;

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE city_zones
      ADD COLUMN cells text[],
      ADD COLUMN h3_resolution smallint,
      ALTER COLUMN polygon DROP NOT NULL`.execute(db);
  const rows = await sql<{ city_id: string; id: string; polygon: { latitude: number; longitude: number }[] }>`
    SELECT city_id, id, polygon FROM city_zones`.execute(db);
  for (const row of rows.rows) {
    const ring = row.polygon.map((p) => [p.latitude, p.longitude]);
    let cells = compactCells(polygonToCells(ring, RESOLUTION));
    if (cells.length === 0) cells = [latLngToCell(ring[0]![0]!, ring[0]![1]!, RESOLUTION)];
    await sql`UPDATE city_zones SET cells = ${cells}::text[], h3_resolution = ${RESOLUTION}
      WHERE city_id = ${row.city_id} AND id = ${row.id}`.execute(db);
  }
  await sql`
    ALTER TABLE city_zones
      ALTER COLUMN cells SET NOT NULL,
      ALTER COLUMN h3_resolution SET NOT NULL,
      ADD CONSTRAINT city_zones_cells_bounded CHECK (cardinality(cells) BETWEEN 1 AND 5000),
      ADD CONSTRAINT city_zones_resolution_bounded CHECK (h3_resolution BETWEEN 5 AND 15)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DELETE FROM city_zones WHERE polygon IS NULL`.execute(db);
  await sql`
    ALTER TABLE city_zones DROP COLUMN cells, DROP COLUMN h3_resolution,
      ALTER COLUMN polygon SET NOT NULL`.execute(db);
}

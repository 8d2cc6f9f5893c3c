package bench_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/postgres"
	"github.com/lockstep-run/lockstep/internal/pgtest"
	"github.com/lockstep-run/lockstep/runbook"
)

// pgItems is how many rows each contender of (pg) migrates, split over
// two mirrored rounds.
const pgItems = 1_000_000

// BenchmarkPostgres measures (pg): migrate pushed down into one guarded
// UPDATE per key-range page against one set-based UPDATE (the floor: no
// guard per row, no checkpoints, one long transaction holding every
// row's lock); and (pg'): migrate per row (pushdown hidden) against a
// hand-written loop that reads keyset pages and writes each page's
// guarded UPDATEs in one transaction (one pgx batch), all on one
// throwaway server in the same run.
func BenchmarkPostgres(b *testing.B) {
	srv := pgtest.Start(b)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		per := pgItems / rounds
		dbs := make([][rounds]string, 4)
		for c := range dbs {
			for r := range rounds {
				dbs[c][r] = pgUsers(b, srv, per)
			}
		}
		b.StartTimer()
		setBased := func(r int) timed {
			t, err := pgSetBased(dbs[0][r])
			if err != nil {
				b.Fatalf("set-based UPDATE: %v", err)
			}
			return t
		}
		hand := func(r int) timed {
			t, err := pgHandWritten(dbs[1][r])
			if err != nil {
				b.Fatalf("hand-written loop: %v", err)
			}
			return t
		}
		migrate := func(perRow bool) func(r int) timed {
			return func(r int) timed {
				db := dbs[2][r]
				if perRow {
					db = dbs[3][r]
				}
				store := fmt.Sprintf("{kind: postgres, dsn: %q, table: users, key: [id]}", db)
				m := runMigratePG(b, b.TempDir(), runbookYAML(store, 0), perRow)
				return timed{m.migrated, m.elapsed}
			}
		}
		res := runMirrored(b, setBased, hand, migrate(false), migrate(true))
		logRounds(b, []string{"set-based", "hand", "pushdown", "per-row"}, res)
		for _, c := range res {
			if t := total(c); t.items != int64(rounds*per) {
				b.Fatalf("a contender wrote %d rows, want %d", t.items, rounds*per)
			}
		}
		s, h, p, m := total(res[0]), total(res[1]), total(res[2]), total(res[3])
		b.ReportMetric(p.rate(), "pushdown-items/s")
		b.ReportMetric(m.rate(), "migrate-items/s")
		b.ReportMetric(h.rate(), "hand-items/s")
		b.ReportMetric(s.rate(), "update-items/s")
		wall, cpu := versus{res[2], res[0]}.speed()
		record(row{id: "(pg)", what: fmt.Sprintf("PostgreSQL: pushdown migrate / one set-based UPDATE, %d rows", p.items),
			figure: figure(wall, cpu, fmt.Sprintf("%.0f / %.0f rows/s", p.rate(), s.rate())), target: "wall ≥ 0.80", verdict: check(wall.med >= 0.80)})
		wall, cpu = versus{res[3], res[1]}.speed()
		record(row{id: "(pg')", what: fmt.Sprintf("PostgreSQL: per-row migrate / hand-written batched pgx loop (%d rows per tx), %d rows", handBatch, m.items),
			figure: figure(wall, cpu, fmt.Sprintf("%.0f / %.0f rows/s", m.rate(), h.rate())), target: "wall ≥ 0.80", verdict: check(wall.med >= 0.80)})
	}
}

// pgUsers creates a database on srv holding n generated users rows and
// returns its DSN.
func pgUsers(b *testing.B, srv *pgtest.Server, n int) string {
	b.Helper()
	ctx := context.Background()
	dsn, err := srv.CreateDatabase(ctx)
	if err != nil {
		b.Fatal(err)
	}
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, fmt.Sprintf(`CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL, address text,
		street_name text, city text, postcode text, v integer);
	INSERT INTO users (id, name, address)
		SELECT i, 'user ' || i, (i %% 997 + 1) || ' ' || (ARRAY['Main St','Rue de la Paix','Baker Street','Via Roma'])[i %% 4 + 1] || ', ' ||
			(ARRAY['Paris','London','Madrid','Berlin','Rome'])[(i / 7) %% 5 + 1] || ', ' || lpad((10000 + (i * 7919) %% 90000)::text, 5, '0')
		FROM generate_series(1::bigint, %d) i`, n))
	if err != nil {
		b.Fatalf("generate users: %v", err)
	}
	if _, err := c.Exec(ctx, "VACUUM ANALYZE users"); err != nil {
		b.Fatalf("vacuum users: %v", err)
	}
	return dsn
}

// pgSetBased is the one-statement migration: fast, but one transaction
// locking every row until it commits, no resume, no per-row guard
// beyond the version.
func pgSetBased(dsn string) (timed, error) {
	ctx := context.Background()
	start := time.Now()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return timed{}, err
	}
	defer c.Close(ctx)
	tag, err := c.Exec(ctx, `UPDATE users SET street_name = trim(split_part(address, ',', 1)), city = trim(split_part(address, ',', 2)),
		postcode = trim(split_part(address, ',', 3)), v = $1 WHERE address IS NOT NULL AND (v IS NULL OR v < $1)`, targetVersion)
	if err != nil {
		return timed{}, err
	}
	return timed{tag.RowsAffected(), time.Since(start)}, nil
}

// pgHandWritten is what an engineer would write by hand with pgx: keyset
// pages of handBatch rows, each page's guarded UPDATEs (version below the
// target, address unchanged) sent as one batch in one transaction.
func pgHandWritten(dsn string) (timed, error) {
	ctx := context.Background()
	start := time.Now()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return timed{}, err
	}
	defer c.Close(ctx)
	var written int64
	after := int64(-1 << 62)
	for {
		rows, err := c.Query(ctx, "SELECT id, address FROM users WHERE id > $1 ORDER BY id LIMIT $2", after, handBatch)
		if err != nil {
			return timed{}, err
		}
		type user struct {
			id   int64
			addr *string
		}
		page, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (user, error) {
			var u user
			return u, r.Scan(&u.id, &u.addr)
		})
		if err != nil {
			return timed{}, err
		}
		if len(page) == 0 {
			return timed{written, time.Since(start)}, nil
		}
		batch := &pgx.Batch{}
		for _, u := range page {
			if u.addr == nil {
				continue
			}
			street, city, postcode := splitAddress(*u.addr)
			batch.Queue(`UPDATE users SET street_name = $1, city = $2, postcode = $3, v = $4
				WHERE id = $5 AND (v IS NULL OR v < $4) AND address IS NOT DISTINCT FROM $6`,
				street, city, postcode, targetVersion, u.id, *u.addr)
		}
		err = pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
			br := tx.SendBatch(ctx, batch)
			for range batch.Len() {
				tag, err := br.Exec()
				if err != nil {
					br.Close()
					return err
				}
				written += tag.RowsAffected()
			}
			return br.Close()
		})
		if err != nil {
			return timed{}, err
		}
		after = page[len(page)-1].id
	}
}

// runMigratePG is runMigrate with the PostgreSQL store wired in too, its
// pushdown hidden when perRow.
func runMigratePG(tb testing.TB, dir, src string, perRow bool) migration {
	tb.Helper()
	return runMigrateWith(tb, dir, src, func(ctx context.Context, spec *runbook.StoreSpec) (engine.Store, error) {
		if spec.Kind != "postgres" {
			return openStore(ctx, spec)
		}
		st, err := postgres.Open(ctx, spec)
		if err != nil || !perRow {
			return st, err
		}
		return pgPerRow{st, st, st, st}, nil
	})
}

// pgPerRow hides a PostgreSQL store's pushdown, keeping the capabilities
// the per-row path uses.
type pgPerRow struct {
	engine.Store
	engine.BatchUpdater
	engine.MigrateTuner
	engine.Counter
}

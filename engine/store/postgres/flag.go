package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/lockstep-run/lockstep/engine"
)

var _ engine.FlagHolder = (*Store)(nil)

// A maintenance flag shared by several locks: lockstep_flag_holders (in
// the store's schema) lists who holds the flag of which row, with the
// column's value from before the first holder, as text.
const flagHoldersDDL = `CREATE TABLE IF NOT EXISTS %s (
	tbl    text NOT NULL,
	item   text NOT NULL, -- the row's key, JSON
	attr   text NOT NULL,
	holder text NOT NULL, -- dataset/env of the lock holding the flag on
	prior  text,          -- the column's value before the first holder, as text
	PRIMARY KEY (tbl, item, attr, holder)
)`

// flagRow is the row a flag lives on, ready to query.
type flagRow struct {
	table, item string // quoted table; key JSON
	col         column
	cond        string // key condition, placeholders from $1
	args        []any
}

func (s *Store) holdersTable() string { return quote(s.schemaName) + ".lockstep_flag_holders" }

// HoldFlag implements engine.FlagHolder.
func (s *Store) HoldFlag(ctx context.Context, table string, key engine.Item, attr, holder string) (engine.FlagHold, error) {
	var out engine.FlagHold
	err := s.flagTx(ctx, table, key, attr, func(tx pgx.Tx, f flagRow) error {
		holders, err := s.flagHolders(ctx, tx, f)
		if err != nil {
			return err
		}
		if len(holders) == 0 { // the value from before the first holder
			var prior *string
			if err := tx.QueryRow(ctx, "SELECT "+quote(f.col.name)+"::text FROM "+f.table+" WHERE "+f.cond, f.args...).Scan(&prior); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "INSERT INTO "+s.holdersTable()+" (tbl, item, attr, holder, prior) VALUES ($1, $2, $3, $4, $5)",
				f.table, f.item, attr, holder, prior); err != nil {
				return err
			}
		} else if _, err := tx.Exec(ctx, "INSERT INTO "+s.holdersTable()+` (tbl, item, attr, holder, prior)
			SELECT tbl, item, attr, $4, prior FROM `+s.holdersTable()+` WHERE tbl = $1 AND item = $2 AND attr = $3 LIMIT 1
			ON CONFLICT DO NOTHING`, f.table, f.item, attr, holder); err != nil {
			return err
		}
		on := any(true)
		if f.col.kind == kindNumber {
			on = engine.Number("1")
		}
		var p params
		p.args = append(p.args, f.args...)
		e, err := p.bind(f.col, on)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE "+f.table+" SET "+quote(f.col.name)+" = "+e+" WHERE "+f.cond, p.args...); err != nil {
			return err
		}
		if out.Before, err = s.flagPrior(ctx, tx, f, holder); err != nil {
			return err
		}
		out.Others = others(holders, holder)
		return nil
	})
	if err != nil {
		return engine.FlagHold{}, fmt.Errorf("hold flag %s: %w", attr, err)
	}
	return out, nil
}

// UnholdFlag implements engine.FlagHolder.
func (s *Store) UnholdFlag(ctx context.Context, table string, key engine.Item, attr, holder string) (engine.FlagHold, error) {
	var out engine.FlagHold
	err := s.flagTx(ctx, table, key, attr, func(tx pgx.Tx, f flagRow) error {
		holders, err := s.flagHolders(ctx, tx, f)
		if err != nil {
			return err
		}
		out.Others = others(holders, holder)
		if out.Held = len(out.Others) < len(holders); !out.Held {
			return nil
		}
		if out.Before, err = s.flagPrior(ctx, tx, f, holder); err != nil {
			return err
		}
		if len(out.Others) == 0 {
			n := len(f.args)
			if _, err := tx.Exec(ctx, "UPDATE "+f.table+" SET "+quote(f.col.name)+" = (SELECT prior::"+f.col.typ+" FROM "+s.holdersTable()+
				fmt.Sprintf(" WHERE tbl = $%d AND item = $%d AND attr = $%d AND holder = $%d) WHERE ", n+1, n+2, n+3, n+4)+f.cond,
				append(append([]any{}, f.args...), f.table, f.item, attr, holder)...); err != nil {
				return err
			}
			out.Restored = true
		}
		_, err = tx.Exec(ctx, "DELETE FROM "+s.holdersTable()+" WHERE tbl = $1 AND item = $2 AND attr = $3 AND holder = $4",
			f.table, f.item, attr, holder)
		return err
	})
	if err != nil {
		return engine.FlagHold{}, fmt.Errorf("let go of flag %s: %w", attr, err)
	}
	return out, nil
}

// flagTx runs fn in a transaction holding the row's lock (FOR UPDATE),
// after checking the row and its column exist.
func (s *Store) flagTx(ctx context.Context, table string, key engine.Item, attr string, fn func(pgx.Tx, flagRow) error) error {
	if table == "" {
		table = s.table
	}
	item, err := json.Marshal(key)
	if err != nil {
		return fmt.Errorf("on %s: key %s: %w", table, engine.KeyText(key), err)
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		sc, err := readSchema(ctx, tx, s.schemaName, table, keyNames(key))
		if err != nil {
			return fmt.Errorf("on %s: %w", table, err)
		}
		c, ok := sc.col(attr)
		if !ok {
			return fmt.Errorf("on %s: column %q: %w; add it first with a sql step, e.g. ALTER TABLE %s ADD COLUMN %s boolean",
				table, attr, ErrNoColumn, quote(table), quote(attr))
		}
		cond, args, err := sc.keyWhere(key, 1)
		if err != nil {
			return fmt.Errorf("on %s: %w", table, err)
		}
		f := flagRow{table: quote(s.schemaName) + "." + quote(table), item: string(item), col: c, cond: cond, args: args}
		var one int
		switch err := tx.QueryRow(ctx, "SELECT 1 FROM "+f.table+" WHERE "+cond+" FOR UPDATE", args...).Scan(&one); {
		case errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("on %s %s: no such item", table, engine.KeyText(key))
		case err != nil:
			return translate(err)
		}
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('lockstep_flag_holders'))"); err != nil {
			return translate(err)
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf(flagHoldersDDL, s.holdersTable())); err != nil {
			return translate(err)
		}
		return translate(fn(tx, f))
	})
}

func (s *Store) flagHolders(ctx context.Context, tx pgx.Tx, f flagRow) ([]string, error) {
	rows, err := tx.Query(ctx, "SELECT holder FROM "+s.holdersTable()+" WHERE tbl = $1 AND item = $2 AND attr = $3 ORDER BY holder",
		f.table, f.item, f.col.name)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// flagPrior reads holder's recorded prior value as an item value.
func (s *Store) flagPrior(ctx context.Context, tx pgx.Tx, f flagRow, holder string) (any, error) {
	c := f.col
	c.name = "prior_value"
	expr := "prior::" + f.col.typ
	sel := "(" + expr + ")"
	switch c.kind {
	case kindNumber, kindText, kindJSON:
		sel += "::text"
	case kindArray:
		sel = "to_jsonb(" + expr + ")::text"
	}
	var v any
	err := tx.QueryRow(ctx, "SELECT "+sel+" FROM "+s.holdersTable()+" WHERE tbl = $1 AND item = $2 AND attr = $3 AND holder = $4",
		f.table, f.item, f.col.name, holder).Scan(&v)
	if err != nil {
		return nil, err
	}
	return readValue(c, v)
}

func others(holders []string, self string) []string {
	var out []string
	for _, h := range holders {
		if h != self {
			out = append(out, h)
		}
	}
	return out
}

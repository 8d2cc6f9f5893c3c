package pglint

import "github.com/lockstep-run/lockstep/runbook"

// Rules returns the PostgreSQL rules, to add to a rule table with
// runbook.Rules.With. Each applies to the sql steps that run on a postgres
// store (see analyze); a runbook without one has no finding. The rules of
// one call share their parses: each statement goes through libpg_query
// once, not once per rule.
func Rules() []runbook.Rule { return rules(newParses()) }

// rules are the PostgreSQL rules, parsing through ps.
func rules(ps *parses) []runbook.Rule {
	return []runbook.Rule{
		rule("LS610", "a sql statement does not parse as PostgreSQL", 3,
			"fix the statement: the message gives the parser's error and the character where it stopped",
			"A statement PostgreSQL cannot parse fails when the step runs, in the middle of a migration, possibly after earlier steps changed data. lockstep parses every statement of a sql step on a postgres store with PostgreSQL's own parser (libpg_query) so a typo fails at lint time.",
			parseErrors(ps)),
		rule("LS611", "CREATE INDEX without CONCURRENTLY on a postgres store", 2,
			"CREATE INDEX CONCURRENTLY, alone in a step with transaction: false",
			"A plain CREATE INDEX holds a SHARE lock on the table until the index is built: every INSERT, UPDATE and DELETE of the application waits, for minutes on a large table. CONCURRENTLY builds the index without blocking writes (it takes longer and cannot run in a transaction). An index on a table created earlier in the runbook is not flagged: it is empty.",
			check(ps, plainIndex)),
		rule("LS612", "a CONCURRENTLY statement is not alone in a transaction: false step", 3,
			"put CREATE/DROP INDEX CONCURRENTLY alone in its own step with transaction: false",
			"CREATE INDEX CONCURRENTLY, DROP INDEX CONCURRENTLY and REINDEX CONCURRENTLY cannot run inside a transaction block: in a step that runs its statements in one transaction the step fails. A failed concurrent build leaves an INVALID index behind, so it is one statement per step, where a failure is clear and the retry obvious (DROP INDEX CONCURRENTLY IF EXISTS first).",
			check(ps, concurrentAlone)),
		rule("LS613", "ADD COLUMN … NOT NULL without a default", 2,
			"add the column nullable, backfill it in batches (migrate), add CHECK (col IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL (protocol postgres-add-not-null-column)",
			"ADD COLUMN … NOT NULL without a DEFAULT fails on a table that has rows, and succeeds on the empty staging table: the runbook breaks only in production. With a constant default it is instant since PostgreSQL 11, but then every existing row silently holds the default.",
			check(ps, notNullNoDefault)),
		rule("LS614", "ADD COLUMN with a volatile default rewrites the table", 2,
			"add the column without a default (or with a constant one), then backfill it in batches with a migrate step",
			"A volatile default (clock_timestamp(), random(), gen_random_uuid(), nextval() of a serial…) must be computed per row: PostgreSQL rewrites the whole table under an ACCESS EXCLUSIVE lock, and neither reads nor writes of the application proceed until it is done. A constant or stable default (now()) is stored once and is instant.",
			check(ps, volatileDefault)),
		rule("LS615", "ALTER COLUMN … TYPE rewrites the table", 2,
			"expand/contract: add a column of the new type, dual-write, backfill in batches, switch the readers, drop the old column (protocol postgres-change-column-type)",
			"Changing a column's type rewrites the table and rebuilds its indexes under an ACCESS EXCLUSIVE lock (except a few binary-compatible changes such as widening a varchar): the application is down for the duration, and the old readers break on the new type.",
			check(ps, alterType)),
		rule("LS616", "ADD CONSTRAINT (foreign key or check) without NOT VALID", 2,
			"ADD CONSTRAINT … NOT VALID, then ALTER TABLE … VALIDATE CONSTRAINT … in a later step",
			"Adding a foreign key or check constraint scans the whole table to validate it while holding a lock that blocks writes (and, for a foreign key, writes to the referenced table too). NOT VALID adds it instantly for new rows; VALIDATE CONSTRAINT then checks old rows under a lock that lets reads and writes go on.",
			check(ps, constraintValidated)),
		rule("LS617", "SET NOT NULL without a validated CHECK (col IS NOT NULL) before it", 2,
			"earlier in the runbook: ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID, then VALIDATE CONSTRAINT c; SET NOT NULL then skips the scan",
			"SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock to prove no row is NULL. Since PostgreSQL 12 the scan is skipped when a validated CHECK (col IS NOT NULL) constraint already proves it: add that constraint NOT VALID, validate it (which does not block writes), then SET NOT NULL and drop the check.",
			check(ps, setNotNull)),
		rule("LS618", "DROP COLUMN or DROP TABLE outside a contract phase gated on verify", 6,
			"move it to a cleanup phase with requires: [verify], marked destructive: true",
			"Old data is removed only after complete validation. A dropped column or table comes back only from a backup, and readers that still use it fail at once; in expand/contract it goes in the contract phase, after the readers moved and the migration was verified.",
			check(ps, dropOutsideContract)),
		rule("LS619", "RENAME of a column or table", 2,
			"expand/contract: add the new column (or a view with the new name), dual-write, backfill, move the readers, drop the old one later",
			"A rename is instant for PostgreSQL and immediate breakage for the application: every running instance that uses the old name fails until the new version is deployed everywhere, and a rollback of the deploy breaks again. Old and new names must both be valid while the application moves.",
			check(ps, renames)),
		rule("LS620", "UPDATE or DELETE without WHERE in a protected environment", 6,
			"add a WHERE that selects exactly the rows to change, or use a migrate step",
			"An UPDATE or DELETE with no WHERE changes every row of the table in one transaction: locks on every row for its duration, a burst of WAL and replication lag, and a mistake that reaches all the data at once.",
			check(ps, noWhere)),
		rule("LS621", "an UPDATE or DELETE touches more than a batch in a protected environment", 2,
			"use a migrate step (keyset pagination in short transactions, rate-limited, checkpointed), or bound the statement by a key range (WHERE id >= … AND id < …)",
			"One statement over the whole selection locks every row it changes until it commits, holds back vacuum, and replicas lag behind: in production the application waits on those rows, and a failure rolls the whole batch back. A statement bounded by a key range (or a subquery with LIMIT) touches one batch.",
			check(ps, unbatched)),
	}
}

// rule builds a rule checked by find.
func rule(code, summary string, guideline int, hint, explain string, find func(*runbook.Runbook) []runbook.Finding) runbook.Rule {
	return runbook.Rule{Code: code, Summary: summary, Guideline: guideline, Hint: hint, Explain: explain}.WithCheck(find)
}

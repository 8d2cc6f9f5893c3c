package journal

import "database/sql"

// DB exposes the journal's pool to the external tests (pragma checks).
func DB(j *Journal) *sql.DB { return j.db }

// Package demo builds the sample data of `lockstep demo`: a SQLite
// database of users whose free-text address the built-in demo protocol
// splits into street_name, city and postcode, and the answers that let the
// demo run unattended.
//
// It may import the standard library and the SQLite driver; only cmd uses it.
package demo

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

// Users is the number of users the demo database holds.
const Users = 100_000

// Seed makes every demo database identical.
const Seed = 20260101

//go:embed answers.yaml
var answers []byte

// Answers returns the answers file the demo runs with in plain mode.
func Answers() []byte { return append([]byte(nil), answers...) }

// ErrExists: CreateDB refuses to overwrite an existing file.
var ErrExists = errors.New("database file already exists")

// CreateDB creates the SQLite database file path holding n users
// (id INTEGER PRIMARY KEY, name, email, address TEXT, v INTEGER), generated
// from Seed in one transaction. v, the data version the demo's migrate
// step sets, is NULL for every user: none has been migrated yet. It exists
// from the start, as a versioned table's would, so the estimate's write
// probe (a guarded update on v that can never hold) measures the write
// path before the expand phase adds the new columns. Addresses look like
// "12 Rue de la Paix, Paris, 75002"; about 1 in 50 have irregular spacing
// and about 1 in 500 are empty or NULL.
func CreateDB(ctx context.Context, path string, n int) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("create demo database %s: %w", path, ErrExists)
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=OFF")
	if err != nil {
		return fmt.Errorf("create demo database: %w", err)
	}
	defer db.Close()
	if err := fill(ctx, db, n); err != nil {
		return fmt.Errorf("create demo database %s: %w", path, err)
	}
	return db.Close()
}

// fill creates the table and inserts n users with one prepared statement.
func fill(ctx context.Context, db *sql.DB, n int) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE users (
		id      INTEGER PRIMARY KEY,
		name    TEXT NOT NULL,
		email   TEXT NOT NULL,
		address TEXT,
		v       INTEGER
	)`); err != nil {
		return fmt.Errorf("create table: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO users (id, name, email, address) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("prepare insert: %w", err)
	}
	defer stmt.Close()
	g := NewGenerator(Seed)
	for i := 1; i <= n; i++ {
		u := g.User(i)
		var addr any = u.Address
		if u.NullAddress {
			addr = nil
		}
		if _, err := stmt.ExecContext(ctx, u.ID, u.Name, u.Email, addr); err != nil {
			return fmt.Errorf("insert user %d: %w", i, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// User is one generated user.
type User struct {
	ID          int
	Name        string
	Email       string
	Address     string
	NullAddress bool // address is NULL (Address is "")
}

// Generator produces deterministic users.
type Generator struct{ r *rand.Rand }

// NewGenerator returns a generator seeded with seed.
func NewGenerator(seed uint64) *Generator {
	return &Generator{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

var (
	firstNames = []string{"Alice", "Bruno", "Chloé", "David", "Emma", "Farid", "Giulia", "Hugo", "Inès", "Jonas",
		"Karin", "Léo", "Maya", "Noah", "Olga", "Pierre", "Quentin", "Rosa", "Sami", "Tess", "Ugo", "Vera", "Wen", "Yasmin", "Zoé"}
	lastNames = []string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Leroy", "Moreau", "Simon",
		"Laurent", "Lefebvre", "Michel", "Garcia", "Müller", "Schmidt", "Rossi", "Smith", "Jones", "Novak"}
	streets = []string{"Rue de la Paix", "Avenue des Champs-Élysées", "Boulevard Haussmann", "Rue du Faubourg Saint-Honoré",
		"Quai de la Tournelle", "Main Street", "High Street", "Baker Street", "Kurfürstendamm", "Via del Corso",
		"Rue Sainte-Catherine", "Place Bellecour", "Calle Mayor", "Friedrichstraße", "Church Road"}
	cities = []struct{ name, postcode string }{
		{"Paris", "750%02d"}, {"Lyon", "6900%d"}, {"Marseille", "130%02d"}, {"Bordeaux", "3300%d"},
		{"London", "SW1A %dAA"}, {"Berlin", "101%02d"}, {"Rome", "001%02d"}, {"Madrid", "280%02d"},
	}
)

// User returns the user with the given id; ids must be asked in order for
// the sequence to be reproducible.
func (g *Generator) User(id int) User {
	r := g.r
	first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
	u := User{
		ID:    id,
		Name:  first + " " + last,
		Email: fmt.Sprintf("%s.%s%d@example.com", asciiLower(first), asciiLower(last), id),
	}
	switch x := r.IntN(1000); {
	case x < 1:
		u.NullAddress = true
	case x < 2:
		u.Address = ""
	default:
		c := cities[r.IntN(len(cities))]
		street := fmt.Sprintf("%d %s", 1+r.IntN(199), streets[r.IntN(len(streets))])
		postcode := fmt.Sprintf(c.postcode, 1+r.IntN(9))
		if x < 22 { // irregular spacing
			u.Address = fmt.Sprintf("  %s ,%s,   %s ", street, c.name, postcode)
		} else {
			u.Address = fmt.Sprintf("%s, %s, %s", street, c.name, postcode)
		}
	}
	return u
}

// asciiLower lower-cases s and drops what is not a-z.
func asciiLower(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r)
		case r == 'é' || r == 'è':
			b.WriteByte('e')
		case r == 'ü':
			b.WriteByte('u')
		}
	}
	return b.String()
}

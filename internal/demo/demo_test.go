package demo_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/internal/demo"
	"github.com/lockstep-run/lockstep/tui/plain"
)

func TestGeneratorIsDeterministic(t *testing.T) {
	a, b := demo.NewGenerator(demo.Seed), demo.NewGenerator(demo.Seed)
	for i := 1; i <= 1000; i++ {
		if ua, ub := a.User(i), b.User(i); ua != ub {
			t.Fatalf("user %d differs: %+v vs %+v", i, ua, ub)
		}
	}
	if demo.NewGenerator(1).User(1) == demo.NewGenerator(2).User(1) {
		t.Error("different seeds gave the same first user")
	}
}

func TestAddressesSplitIntoThreeParts(t *testing.T) {
	g := demo.NewGenerator(demo.Seed)
	var empty, irregular int
	for i := 1; i <= 20000; i++ {
		u := g.User(i)
		if u.NullAddress || u.Address == "" {
			empty++
			continue
		}
		parts := strings.Split(u.Address, ",")
		if len(parts) != 3 {
			t.Fatalf("user %d address %q has %d comma-separated parts, want 3", i, u.Address, len(parts))
		}
		for _, p := range parts {
			if strings.TrimSpace(p) == "" {
				t.Fatalf("user %d address %q has an empty part", i, u.Address)
			}
		}
		if strings.HasPrefix(u.Address, " ") {
			irregular++
		}
	}
	if empty == 0 || empty > 200 {
		t.Errorf("%d of 20000 addresses empty or NULL, want a few", empty)
	}
	if irregular == 0 {
		t.Error("no address with irregular spacing")
	}
}

func TestCreateDB(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.db")
	if err := demo.CreateDB(context.Background(), path, 5000); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, nulls, ids int
	if err := db.QueryRow(`SELECT count(*), sum(address IS NULL), count(DISTINCT id) FROM users`).Scan(&n, &nulls, &ids); err != nil {
		t.Fatal(err)
	}
	if n != 5000 || ids != 5000 {
		t.Errorf("count = %d, distinct ids = %d; want 5000", n, ids)
	}
	if err := demo.CreateDB(context.Background(), path, 10); !errors.Is(err, demo.ErrExists) {
		t.Errorf("CreateDB over an existing file = %v, want ErrExists", err)
	}
}

func TestAnswersParse(t *testing.T) {
	a, err := plain.ParseAnswers("answers.yaml", demo.Answers())
	if err != nil {
		t.Fatalf("the embedded demo answers do not parse: %v", err)
	}
	for _, step := range []string{"read-plan", "strategy", "go-no-go"} {
		if a.Steps[step] == nil {
			t.Errorf("no answer for %s", step)
		}
	}
}

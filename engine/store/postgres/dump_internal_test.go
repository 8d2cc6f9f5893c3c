package postgres

import "testing"

// TestWithoutPassword: the DSN pg_dump gets on its command line holds no
// password, in either connection-string form.
func TestWithoutPassword(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"postgres://app:s3cret@db:5432/prod?sslmode=require", "postgres://app@db:5432/prod?sslmode=require"},
		{"postgresql://app@db/prod?password=s3cret&sslmode=disable", "postgresql://app@db/prod?sslmode=disable"},
		{"host=db user=app password=s3cret dbname=prod", "host=db user=app  dbname=prod"},
		{"host=db password='s3 cret' dbname=prod", "host=db  dbname=prod"},
		{"host=db dbname=prod", "host=db dbname=prod"},
	}
	for _, tt := range tests {
		if got := withoutPassword(tt.in); got != tt.want {
			t.Errorf("withoutPassword(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

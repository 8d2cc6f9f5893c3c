package postgres

// DSNForTest returns the store's DSN as opened (tests reopen with it).
func (s *Store) DSNForTest() string { return s.rawDSN }

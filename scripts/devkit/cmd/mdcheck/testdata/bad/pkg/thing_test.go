package pkg

func TestThing(t *testing.T) {}

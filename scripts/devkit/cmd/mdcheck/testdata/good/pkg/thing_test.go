package pkg

func TestThing(t *testing.T) {}

func FuzzThing(f *testing.F) {}

package apiserver

// GenericLists sends lists through the generic encoder while on; it
// returns a function that restores the streaming writer.
func GenericLists() (restore func()) {
	disableStreamList.Store(true)
	return func() { disableStreamList.Store(false) }
}

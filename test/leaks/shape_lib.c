/* The library of shape_dlopen: one global that holds a block. */
void *volatile shape_lib_ptr;
void shape_lib_set(void *p) { shape_lib_ptr = p; }

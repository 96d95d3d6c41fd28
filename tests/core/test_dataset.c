/* placeholder: replaced by the real tests before commit */
int main(void) { return 0; }

print("pinrules: not built yet")

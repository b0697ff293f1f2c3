print("xdsc")

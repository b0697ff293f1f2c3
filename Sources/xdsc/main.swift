runMain()

import CTDoctorCLI

CTDoctorCLI.main()

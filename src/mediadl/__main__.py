from mediadl.entry import main

if __name__ == "__main__":  # not when a forkserver child prepares this module as __mp_main__
    main()

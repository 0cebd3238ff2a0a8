from clinic_tui.cli import main

raise SystemExit(main())

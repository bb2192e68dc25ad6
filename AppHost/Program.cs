Console.WriteLine("AppHost: the app model lands with the Hosting library.");

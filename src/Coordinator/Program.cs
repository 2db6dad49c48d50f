Console.WriteLine("coord");

using ChatKit.Samples.Web;

var app = SampleApp.Create(args);
app.Lifetime.ApplicationStarted.Register(() =>
    Console.WriteLine($"ChatKit sample chat: open {string.Join(", ", app.Urls)} in a browser. Development sign-in: anyone can be anyone."));
await app.RunAsync();

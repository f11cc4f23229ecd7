namespace ChatKit.Samples.Web.DevSignIn;

/// <summary>The body of <c>POST /dev/signin</c>.</summary>
internal sealed record SignInRequest(string? Name);

namespace ChatKit.Samples.Web.DevSignIn;

/// <summary>The answer of <c>POST /dev/signin</c>.</summary>
internal sealed record SignInResponse(string Token, string User, string Name);

package presign

import "testing"

func TestShare(t *testing.T) {
	tests := []struct {
		name        string
		url         string
		wantService string
		wantOK      bool
	}{
		{"DriveFileView", "https://drive.google.com/file/d/1AbCdEfGhIjKlMnOpQrStUvWxYz012345/view?usp=sharing", "google-drive", true},
		{"DriveFileNoView", "https://drive.google.com/file/d/1AbCdEfGhIjKlMnOpQrStUvWxYz012345", "google-drive", true},
		{"DriveOpen", "https://drive.google.com/open?id=1AbCdEfGhIjKlMnOpQrStUvWxYz012345", "google-drive", true},
		{"DriveUcView", "https://drive.google.com/uc?export=view&id=1AbCdEfGhIjKlMnOpQrStUvWxYz012345", "google-drive", true},
		{"DriveUcDownload", "https://drive.google.com/uc?export=download&id=1AbCdEfGhIjKlMnOpQrStUvWxYz012345", "google-drive", true},
		{"DriveUserContent", "https://drive.usercontent.google.com/download?id=1AbCdEfGhIjKlMnOpQrStUvWxYz012345&export=view", "google-drive", true},
		{"DriveUpperCaseHost", "HTTPS://Drive.Google.COM/file/d/1AbC/view", "google-drive", true},
		{"DriveHostTrailingDot", "https://drive.google.com./file/d/1AbC/view", "google-drive", true},
		{"DriveHostWithPort", "https://drive.google.com:443/file/d/1AbC/view", "google-drive", true},
		{"Docs", "https://docs.google.com/uc?id=1AbC", "google-drive", true},
		{"GooglePhotos", "https://photos.app.goo.gl/AbCdEf123", "google-photos", true},
		{"GoogleUserContentIsDirect", "https://lh3.googleusercontent.com/d/1AbC=w1000", "", false},
		{"DropboxS", "https://www.dropbox.com/s/abc123xyz/shoe.jpg?dl=0", "dropbox", true},
		{"DropboxSNoDl", "https://www.dropbox.com/s/abc123xyz/shoe.jpg", "dropbox", true},
		{"DropboxScl", "https://www.dropbox.com/scl/fi/abc123xyz/shoe.jpg?rlkey=k3y&dl=0", "dropbox", true},
		{"DropboxSclDl1", "https://www.dropbox.com/scl/fi/abc123xyz/shoe.jpg?rlkey=k3y&dl=1", "", false},
		{"DropboxRaw1", "https://www.dropbox.com/s/abc123xyz/shoe.jpg?raw=1", "", false},
		{"DropboxDlUpperCase", "https://dropbox.com/s/abc123xyz/shoe.jpg?DL=1", "", false},
		{"DropboxUserContent", "https://dl.dropboxusercontent.com/s/abc123xyz/shoe.jpg", "", false},
		{"DropboxHome", "https://www.dropbox.com/home", "", false},
		{"OneDriveShort", "https://1drv.ms/i/s!AbCdEfGh12345", "onedrive", true},
		{"OneDriveLive", "https://onedrive.live.com/?cid=ABC&id=ABC%21123&authkey=%21XYZ", "onedrive", true},
		{"OneDriveDownload", "https://onedrive.live.com/download?cid=ABC&resid=ABC%21123&authkey=%21XYZ", "", false},
		{"SharePointImage", "https://contoso.sharepoint.com/:i:/g/personal/user_contoso_com/EaBcDeF?e=AbC123", "sharepoint", true},
		{"SharePointMy", "https://contoso-my.sharepoint.com/:u:/r/personal/user/Documents/a.jpg?csf=1", "sharepoint", true},
		{"SharePointDownload", "https://contoso.sharepoint.com/:i:/g/personal/user_contoso_com/EaBcDeF?download=1", "", false},
		{"SharePointFile", "https://contoso.sharepoint.com/sites/x/Shared%20Documents/a.jpg", "", false},
		{"ICloud", "https://www.icloud.com/iclouddrive/0AbCdEf#shoe", "icloud", true},
		{"ICloudShare", "https://share.icloud.com/photos/0AbCdEf", "icloud", true},
		{"BoxShared", "https://app.box.com/s/abc123", "box", true},
		{"BoxStatic", "https://app.box.com/shared/static/abc123.jpg", "", false},
		{"Mega", "https://mega.nz/file/AbC#key", "mega", true},
		{"HTTP", "http://drive.google.com/file/d/1AbC/view", "google-drive", true},
		{"LookAlikeHost", "https://drive.google.com.evil.example/file/d/1AbC/view", "", false},
		{"NotDropbox", "https://notdropbox.com/s/abc/a.jpg", "", false},
		{"Userinfo", "https://user@drive.google.com/file/d/1AbC/view", "google-drive", true},
		{"FTP", "ftp://drive.google.com/file/d/1AbC/view", "", false},
		{"MissingScheme", "drive.google.com/file/d/1AbC/view", "", false},
		{"Plain", "https://images.example.com/a.jpg", "", false},
		{"Empty", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			service, ok := Share(tc.url)
			if service != tc.wantService || ok != tc.wantOK {
				t.Errorf("Share(%q) = %q, %v; want %q, %v", tc.url, service, ok, tc.wantService, tc.wantOK)
			}
		})
	}
}
